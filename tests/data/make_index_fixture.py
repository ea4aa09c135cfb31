"""Build tests/data/index-fixture/, the small index tests/test_engine_contract.py opens with today's code.

Run from the project's root, after a deliberate SCHEMA_VERSION, ANALYSIS_VERSION
or CODEC_VERSION bump, or an upgrade of whoosh-reloaded or jieba (the test then
says the committed index's stamp differs):

    PYTHONPATH=$PWD .venv/bin/python tests/data/make_index_fixture.py

It writes three tiny PDFs (English and Chinese, with reportlab, as
tests/conftest.py does) and a catalogue into a temporary archive, indexes them
with indexer.build.update, and replaces tests/data/index-fixture/ with the
index folder: the `current` link and its one generation. Commit the result.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))        # tests/, for conftest's helpers

from conftest import make_settings, write_pdf  # noqa: E402

from indexer.build import update  # noqa: E402
from indexer.generations import CURRENT, current_generation  # noqa: E402

FIXTURE = HERE / "index-fixture"

CATALOGUE = """
[[document]]
id = "fixture-mou"
title = "Memorandum on Regional Policy"
title_zh = "区域政策谅解备忘录"
date = "2006-05-15"
kind = "memorandum of understanding"

[[document.files]]
lang = "en"
file = "mou.en.pdf"

[[document.files]]
lang = "zh"
file = "mou.zh.pdf"

[[document]]
id = "fixture-study"
title = "Comparative study of disparities"
date = "2011"
kind = "study"

[[document.files]]
lang = "en"
file = "study.en.pdf"
"""


def main() -> None:
    """Build the fixture index and replace tests/data/index-fixture/ with it."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), workers=1)
        archive = Path(settings.archive_dir)
        Path(settings.catalogue).write_text(CATALOGUE, encoding="utf-8")
        write_pdf(archive / "mou.en.pdf", ["The parties exchange views on cohesion."])
        write_pdf(archive / "mou.zh.pdf", ["双方讨论城镇化问题。"])
        write_pdf(archive / "study.en.pdf", ["Chengdu shows urbanisation in western China."])
        update(settings)
        generation = current_generation(settings.index_dir)
        shutil.rmtree(FIXTURE, ignore_errors=True)
        FIXTURE.mkdir(parents=True)
        # The generation without its lock files (a writer's, not part of the index).
        shutil.copytree(generation, FIXTURE / generation.name,
                        ignore=shutil.ignore_patterns("*WRITELOCK", "*.lock"))
        (FIXTURE / CURRENT).symlink_to(generation.name)
    size = sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file())
    print(f"wrote {FIXTURE} ({size // 1024} KB)")


if __name__ == "__main__":
    main()
