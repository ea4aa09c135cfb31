"""Smoke test of bench/load_during_rebuild.py: a short run of the real server under load during a rebuild.

No timing is asserted (the machine may be busy); what must hold is that
every request was answered, every answer was right for the index generation
that gave it, and that answers came from both sides of the rebuild's swap.
"""

from __future__ import annotations

import json
import subprocess
import sys

from indexer.config import PROJECT_ROOT


def test_load_during_a_rebuild_has_zero_errors(tmp_path):
    proc = subprocess.run(
        [sys.executable, "bench/load_during_rebuild.py", "--seconds", "5", "--clients", "8", "--no-append",
         "--work-dir", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    out = json.loads(proc.stdout)
    assert out["errors"] == 0 and out["failed_requests"] == 0 and out["wrong_answers"] == 0, out
    assert out["rebuilds"] >= 1 and out["answers"] > 0
    # Answers came from the generation before the rebuild and from the one it swapped in.
    assert len(out["answers_by_generation"]) >= 2, out["answers_by_generation"]
    assert {"search_en", "search_zh", "document"} <= set(out["by_kind"])
    assert list(tmp_path.iterdir()) == []          # the work folder is removed
