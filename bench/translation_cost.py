"""The query step of bench/run.py alone, translation on, off and on again, on an index bench/run.py kept.

    python bench/translation_cost.py WORK_DIR [REPEAT]

WORK_DIR is a folder `bench/run.py --keep` left (its config.toml and index).
"""
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import run as benchrun  # noqa: E402
from indexer.config import load_settings  # noqa: E402
from indexer.engine import analysis  # noqa: E402

work = Path(sys.argv[1])
settings = load_settings(work / "config.toml")
analysis.configure_segmenter(settings.userdict)
queries = benchrun.query_set(random.Random(7))
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
out = {}
for label, s in (("on", settings), ("off", settings.replace(translate_dictionary=False)),
                 ("on-again", settings)):
    benchrun.log(f"translation {label}")
    out[label], _ = benchrun.run_queries(s.index_dir, s, queries, repeat)
print(json.dumps(out, indent=1))
