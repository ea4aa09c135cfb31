"""The search engine: everything that knows Whoosh's or jieba's internals.

Nothing outside this package imports whoosh.codec, whoosh.writing,
whoosh.filedb or whoosh.matching, or uses a private name of Whoosh or jieba
(tests/test_engine_contract.py checks it, and checks that every private name
used here, listed in contract.py, exists in the pinned versions).

- analysis.py   tokenizers and analyzers (English, jieba words, CJK bigrams, pages)
- schema.py     the fields, their analyzers and the schema version
- storage.py    the index folder: durable files, opening and creating an index
- codec.py      how segments are written and read (inlined short postings, split blocks)
- writer.py     the segment writer and committing segments written elsewhere
- postingpool.py  the writer's pool of postings, sorted in runs
- reading.py    fast reads of committed segments: columns, stored records, postings
- scoring.py    every record matching a query, with its score, a term at a time
- pagematch.py  which pages of a file match a query, from word positions
- phrases.py    phrase checks by position sets
- stamp.py      what made an index (versions, dictionary hash), in a file per generation
- contract.py   the private names, layouts and pickled classes the engine relies on
"""
