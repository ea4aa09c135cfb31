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
- ranking.py    every ranking weight, and how a document's and a page's score are made
- query.py      the query tree: terms, phrases, prefixes, ranges, and/or/not, translations
- parse.py      user text -> Whoosh's parser with our plugins -> the query tree
- evaluate.py   the one evaluator of the tree: records and scores, then pages of the files shown
- cost.py       what a query's prefixes and wildcards will cost, checked before it runs
- scoring.py    a term's postings read block by block, and their BM25F scores
- phrases.py    phrase checks by position sets
- stamp.py      what made an index (versions, dictionary hash), in a file per generation
- contract.py   the private names, layouts and pickled classes the engine relies on
"""
