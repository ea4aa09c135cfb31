"""Write indexer/data/zh_common_words.txt: jieba's most frequent two-character words.

    python scripts/make-zh-common-words.py

cleaning.implausible_chinese counts how many neighbouring Chinese characters
of a page form one of these words: real Chinese text forms many, a font
mapped to the wrong characters few (docs/DECISIONS.md, "Text as the page shows it").
"""

from __future__ import annotations

from pathlib import Path

import jieba

COUNT = 10_000
OUT = Path(__file__).resolve().parent.parent / "indexer" / "data" / "zh_common_words.txt"


def common_words(count: int = COUNT) -> list[str]:
    """Return jieba's COUNT most frequent two-character words, most frequent first (ties by the word)."""
    words = []
    with jieba.Tokenizer().get_dict_file() as fh:
        for line in fh:
            parts = line.decode("utf-8").split()
            if len(parts) >= 2 and len(parts[0]) == 2:
                words.append((-int(parts[1]), parts[0]))
    return [word for _, word in sorted(words)[:count]]


def main() -> None:
    """Write the file."""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(common_words()) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
