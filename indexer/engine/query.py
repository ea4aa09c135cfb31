"""The project's query tree: what a parsed query is, for scoring, page matching and highlighting.

A query is parsed once (engine.parse) into these nodes; nothing after parsing
sees a Whoosh query. Each leaf names one index field and carries a boost (the
field's weight from ranking.FIELD_WEIGHTS, times any ^boost the user typed):
- Term: one analysed word;
- Phrase: words in order, each 1 to SLOP positions after the one before (1: side by side);
- Prefix: every word starting with the text; Wildcard: every word matching a pattern of * and ?;
- Range: every word between two bounds (the date filter, year:[2010 TO 2012]).

Branches: And (every part), Or (any part), Not (every record without it),
AndNot (the first part without the second), AndMaybe (the first part, the
second adding to its score), Require (the first part where the second also
matches, scored by the first), Alternatives: the user's own words OR their
translation, the translation's score counting its WEIGHT
(ranking.TRANSLATION_WEIGHT), and Synonyms: the translations of one word, any
of them, scored as the best one alone, so that a word with many translations
counts as much as a word with one (structured query translation). NOTHING
matches no record.

Nodes are frozen (hashable: a leaf asked for twice is read once) and compare
by value. engine.evaluate gives their scores and pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Phrase:
    field: str
    words: tuple[str, ...]
    slop: int = 1
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Prefix:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Wildcard:
    field: str
    pattern: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Range:
    field: str
    start: str | None
    end: str | None
    start_excluded: bool = False
    end_excluded: bool = False
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Any of PARTS (the translations of one word); a record scores as its best part."""
    parts: tuple
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Not:
    part: object


@dataclass(frozen=True, slots=True)
class AndNot:
    positive: object
    negative: object
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class AndMaybe:
    required: object
    optional: object
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Require:
    required: object
    condition: object
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Alternatives:
    """The user's own words or their translation; the translation's score counts WEIGHT."""
    own: object
    translation: object
    weight: float


@dataclass(frozen=True, slots=True)
class Nothing:
    pass


NOTHING = Nothing()

Node = (Term | Phrase | Prefix | Wildcard | Range | And | Or | Synonyms | Not | AndNot | AndMaybe | Require
        | Alternatives | Nothing)
LEAVES = (Term, Phrase, Prefix, Wildcard, Range)
MULTITERMS = (Prefix, Wildcard, Range)


def children(node) -> tuple:
    """Return the nodes directly under NODE."""
    kind = type(node)
    if kind is And or kind is Or or kind is Synonyms:
        return node.parts
    if kind is Not:
        return (node.part,)
    if kind is AndNot:
        return (node.positive, node.negative)
    if kind is AndMaybe:
        return (node.required, node.optional)
    if kind is Require:
        return (node.required, node.condition)
    if kind is Alternatives:
        return (node.own, node.translation)
    return ()


def leaves(node) -> Iterator:
    """Yield every leaf of NODE, those under a NOT included."""
    if isinstance(node, LEAVES):
        yield node
    for child in children(node):
        yield from leaves(child)


def positive_leaves(node) -> Iterator:
    """Yield the leaves of NODE a matching record holds: not those under a NOT or an AndNot's negative part."""
    kind = type(node)
    if isinstance(node, LEAVES):
        yield node
    elif kind is Not:
        return
    elif kind is AndNot:
        yield from positive_leaves(node.positive)
    else:
        for child in children(node):
            yield from positive_leaves(child)


def has_conjunction(node) -> bool:
    """Whether NODE requires two things at once (an AND of two parts or more; a phrase is always on one page)."""
    kind = type(node)
    if (kind is And and len(node.parts) > 1) or kind is Require:
        return True
    return any(has_conjunction(child) for child in children(node))


def without_absent_terms(node, holds):
    """Return NODE without the parts of its Or and Synonyms nodes that hold only terms HOLDS(field,
    text) says the index lacks: such a part matches, scores and marks nothing, while a translated
    word's many generated forms (engine.inflection) are mostly in no index and every evaluation step
    walks the tree once per record or page.

    A node of several parts keeps two at least (a part found and an absent one): an Or of one part
    is evaluated as that part, without its boost, and the pages' fallback weights depend on the
    tree's shape, so the records, scores and pages stay exactly those of NODE.
    """
    return _pruned(node, holds)[0]


def _pruned(node, holds) -> tuple[object, bool]:
    """(NODE pruned, whether each of its terms is absent, so that it matches nothing)."""
    kind = type(node)
    if kind is Term:
        return node, not holds(node.field, node.text)
    if kind is Or or kind is Synonyms:
        pruned = [_pruned(p, holds) for p in node.parts]
        if all(absent for _, absent in pruned):
            # Kept whole where it stands (in an And, say): its walks give what they gave.
            return node, True
        first_absent = next((p for p, absent in pruned if absent), None)
        found = sum(1 for _, absent in pruned if not absent)
        pad = first_absent if found == 1 else None
        parts = tuple(p for p, absent in pruned if not absent or p is pad)
        return replace(node, parts=parts), False
    if kind is And:
        return replace(node, parts=tuple(_pruned(p, holds)[0] for p in node.parts)), False
    if kind is AndMaybe:
        return replace(node, required=_pruned(node.required, holds)[0],
                       optional=_pruned(node.optional, holds)[0]), False
    if kind is Alternatives:
        return replace(node, own=_pruned(node.own, holds)[0], translation=_pruned(node.translation, holds)[0]), False
    return node, False
