"""Which page, and which part of it, a result shows for a phrase whose words also stand apart (issue 26, point 3).

    python bench/phrase_pages.py [--documents 200] [--seed 3] [--code DIR]

Generates DOCUMENTS reports (real PDFs, half English, half Chinese) of five
pages each, every report with its own phrase of two or three words: on two
pages the words stand apart, two to four times each; on one page they stand
apart once or twice each near the top (in any order, a few words to a few
lines apart) and then together as the phrase, further down; the other pages
hold none of them. The archive is indexed into a temporary folder and
each report is searched for its phrase, typed without quotes (words separated
by spaces) and in quotes. Prints one JSON object, per language, phrase length
and quoting:
- first_page: the share of reports whose first page shown is the phrase's page;
- marked_whole: the share whose phrase page is shown with a snippet that marks
  the phrase whole (one mark, or marks with only spaces between them).
--code runs another checkout's indexer on the same reports (before/after).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = 5
APART_PAGES = 2


def _marked_whole(snippet: str, phrase: str) -> bool:
    """Whether SNIPPET marks PHRASE whole: as one mark, or marks with only spaces between them."""
    joined = re.sub(r"</mark>(\s*)<mark>", r"\1", snippet)
    return any(phrase.lower() in m.lower() for m in re.findall(r"<mark>(.*?)</mark>", joined))


def _reports(count: int, seed: int):
    """(doc id, language, phrase words, the phrase's page, pages as lists of (language, paragraph))."""
    import corpus
    from indexer.engine import analysis

    rng = random.Random(seed)
    words, _ = corpus.english_vocabulary()
    content = [w for w in words if w not in corpus.STOP and len(w) >= 4 and w.isalpha()]
    zh_words, _ = corpus.chinese_vocabulary()
    zh2 = [w for w in zh_words if len(w) == 2]
    for i in range(count):
        lang = "en" if i % 2 == 0 else "zh"
        size = 2 + (i // 2) % 2
        if lang == "en":
            phrase = rng.sample(content[300:3000], size)
            stems = {analysis.english_terms(w)[0] for w in phrase}
            filler = [w for w in content[:2000] if not stems & set(analysis.english_terms(w))]
        else:
            phrase = rng.sample(zh2[500:5000], size)
            chars = set("".join(phrase))
            filler = [w for w in zh_words[:3000] if not chars & set(w)]
        join = " " if lang == "en" else ""

        def run(n: int) -> list[str]:
            return rng.choices(filler, k=n)

        def paragraphs(tokens: list[str]) -> list[tuple[str, str]]:
            if lang == "en":
                return [(lang, " ".join(tokens[k:k + 40]) + ".") for k in range(0, len(tokens), 40)]
            # Short Chinese paragraphs: a line break inside a phrase would hide it from the snippet.
            return [(lang, "".join(tokens[k:k + 12]) + "。") for k in range(0, len(tokens), 12)]

        order = rng.sample(range(PAGES), PAGES)
        phrase_page, apart_pages = order[0], set(order[1:1 + APART_PAGES])
        pages = []
        for page in range(PAGES):
            if page == phrase_page:
                # Each word once or twice near the top, in any order, a few words to a few lines apart.
                top = [w for w in phrase for _ in range(rng.randint(1, 2))]
                rng.shuffle(top)
                tokens = run(rng.randint(0, 10))
                for w in top:
                    tokens += [w] + run(rng.randint(3, 25))
                tokens += run(rng.randint(20, 120)) + [join.join(phrase)] + run(rng.randint(0, 60))
            elif page in apart_pages:
                tokens = run(10)
                for w in phrase * rng.randint(2, 4):
                    tokens += [w] + run(rng.randint(12, 24))
            else:
                tokens = run(150)
            pages.append(paragraphs(tokens))
        yield f"phrase-{i:04d}", lang, phrase, phrase_page + 1, pages


def main() -> int:
    """Generate the reports, index them, search each for its phrase and print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--code", help="the checkout whose indexer is measured (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.code).resolve() if args.code else ROOT))
    sys.path.insert(1, str(ROOT / "bench"))
    import corpus
    from indexer.build import update
    from indexer.readers import open_searcher
    from indexer.search import search

    tallies: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        archive, settings = corpus.scratch_settings(Path(tmp), expand_glossary=False)
        reports = list(_reports(args.documents, args.seed))
        for doc_id, _, _, _, pages in reports:
            corpus.render_pdf(archive / f"{doc_id}.pdf", pages, doc_id)
        update(settings)
        with open_searcher(settings.index_dir) as searcher:
            for doc_id, lang, phrase, phrase_page, _ in reports:
                join = " " if lang == "en" else ""
                for quoted in (False, True):
                    text = f'"{join.join(phrase)}"' if quoted else " ".join(phrase)
                    hit = next((h for h in search(searcher, text, settings).hits if h.doc_id == doc_id), None)
                    shown = hit.files[0].pages if hit and hit.files else []
                    snippet = next((p.snippet for p in shown if p.page == phrase_page), "")
                    key = f"{lang} {len(phrase)} words{' quoted' if quoted else ''}"
                    tally = tallies.setdefault(key, {"reports": 0, "first_page": 0, "marked_whole": 0})
                    tally["reports"] += 1
                    tally["first_page"] += bool(shown) and shown[0].page == phrase_page
                    tally["marked_whole"] += _marked_whole(snippet, join.join(phrase))
    figures = {key: {"reports": t["reports"], "first_page": round(t["first_page"] / t["reports"], 2),
                     "marked_whole": round(t["marked_whole"] / t["reports"], 2)} for key, t in sorted(tallies.items())}
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
