"""How a result's rank is made: every weight of the search, and the rules combining them.

A query matches records of two kinds (engine.schema): a document's "doc"
record (titles and catalogue metadata) and each of its files' "text" record
(the file's whole text). Each matching record gets a BM25F score: for each
query word in each field, idf × tf·(K1+1) / (tf + K1·(1 − B + B·length/average
length)), times the field's weight (FIELD_WEIGHTS) and the word's boost, summed
over the words and fields the query names (an AND adds its parts, an OR the
parts that match; a word the glossary added in the other language counts
TRANSLATION_WEIGHT of the user's own, one the bilingual dictionary added
DICTIONARY_WEIGHT, the best of a word's translations alone). A plain English
word is also looked for in the form typed (the unstemmed fields of
schema.EXACT_FIELDS), an optional part weighing EXACT_FORM_WEIGHT of its
field's weight, so that the records holding that form rank above those holding
only other forms of it; quoted text is searched in those fields alone.

A document's score (document_score):
    its doc record's score + its best file's score + SECOND_FILE_SHARE × its
    second best file's score (a little credit for another language version);
    in the any-word fallback (no record held all the words) all its files add up.

The order of documents (order_by_relevance): documents holding the user's own
words before those reached only through a translation, each group by score.
Then, for a query requiring several things at once, each of the RESCORE_WINDOW
best documents with a page holding all of them has its score multiplied by
(1 + TOGETHER_BONUS) (with_together_bonus), and the window is sorted again.
Last, for a query naming a year ("memorandum 2006"), the documents dated in
that year come before the others of their group, in their order
(dated_in_named_years_first): the year's own documents answer it better than
an undated one that mentions the year more often.

A page's score (for the pages shown of each file, engine.evaluate):
    the sum over the query's words (and phrases) found on the page of
    boost × rarity × saturation(occurrences), where rarity = max(the word's idf,
    PAGE_IDF_FLOOR) (a phrase: the sum of its words' idfs) and saturation(n) =
    log(1 + n) (page_word_weight, page_saturation).
"""

from __future__ import annotations

import math
from operator import itemgetter

# BM25F's term-frequency saturation and length normalisation: Whoosh's defaults
# (whoosh.scoring.BM25F), which the differential tests compare scores with.
BM25_K1 = 1.2
BM25_B = 0.75

# Fields searched by a query without a field prefix, with their weights (each
# field's BM25F score is multiplied by its weight):
# - titles weigh most: a document named after the words is the best answer;
# - catalogue metadata (event, place, programme, kind, summary) next;
# - the Chinese word field weighs more than the bigram field, so a page
#   where the query is a whole jieba word (it matches both) ranks above a
#   page where the characters only occur inside a longer word (bigrams only);
# - the bigram field weighs least: it exists for recall, not precision.
FIELD_WEIGHTS = {
    "title": 4.0,
    "title_zh": 4.0,
    "title_cjk": 3.0,
    "meta": 2.0,
    "meta_cjk": 1.5,
    "body": 1.0,
    "body_zh": 1.0,
    "body_cjk": 0.6,
}

# An unquoted word is also looked for in its exact form, as typed (the fields of
# schema.EXACT_FIELDS: unstemmed), an optional clause weighing this much of the
# word's own field weight: among the records matching the word, those holding the
# form typed ("listings") rank above those holding only another form of it
# ("list", "listed"). Quoted text is searched in those fields alone, at the full weight.
EXACT_FORM_WEIGHT = 1.0

# Weight of the glossary's translation against the user's own words.
TRANSLATION_WEIGHT = 0.3
# Weight of the bilingual dictionary's translation: less than the glossary's, whose
# terms are the collection's own; a general dictionary's senses are often not the
# one meant. One word's translations count once, as the best of them (query.Synonyms).
DICTIONARY_WEIGHT = 0.2
# A dictionary word's senses after its first DICTIONARY_MAIN_SENSES count this share of the first
# ones: CC-CEDICT lists a word's commonest senses first, so a document with a later sense ("major"
# for 主要 "main") ranks after one with the word's usual meaning.
DICTIONARY_MAIN_SENSES = 2
LATER_SENSE_SHARE = 0.5

# Share of a document's second best file (its other language version) in its score.
SECOND_FILE_SHARE = 0.25

# A report whose words stand together on one page answers the query better
# than one where they are scattered over its pages (a proximity signal, as
# search engines use). Among the RESCORE_WINDOW best documents, those with such
# a page get their score raised by TOGETHER_BONUS; the window is the same for
# every result page, so paging stays consistent.
RESCORE_WINDOW = 50
TOGETHER_BONUS = 0.5

# Least rarity a page's word counts for: a word in nearly every record still counts a little.
PAGE_IDF_FLOOR = 0.1


def document_score(doc_score: float, file_scores: list[float], any_word: bool) -> float:
    """Return a document's score from its doc record's score and its matching files' scores."""
    if len(file_scores) < 2:
        return doc_score + (file_scores[0] if file_scores else 0)
    ordered = sorted(file_scores, reverse=True)
    # In the any-word fallback the files add up: a document with the words
    # spread over its language versions answers more of the query than one
    # with a single word.
    others = sum(ordered[1:]) if any_word else SECOND_FILE_SHARE * ordered[1]
    return doc_score + ordered[0] + others


def order_by_relevance(ranked: list, score_index: int, own_words_index: int) -> None:
    """Sort RANKED tuples in place: own words first, then by score, best first."""
    # Two stable sorts on C keys give the order of one on (own_words, score).
    ranked.sort(key=itemgetter(score_index), reverse=True)
    ranked.sort(key=itemgetter(own_words_index), reverse=True)


def dated_in_named_years_first(ranked: list, own_words_index: int, in_named_year) -> None:
    """Sort RANKED in place: own words first, then the documents IN_NAMED_YEAR, keeping their order."""
    # Python's sort is stable, with reverse=True too: equal keys keep the relevance order.
    ranked.sort(key=lambda r: (r[own_words_index], in_named_year(r)), reverse=True)


def with_together_bonus(score: float) -> float:
    """Return the score of a document with a page holding all the query's words."""
    return score * (1 + TOGETHER_BONUS)


def page_word_weight(boost: float, idf: float) -> float:
    """Return how much one page holding a query word (or phrase) of this boost and idf counts."""
    return boost * max(idf, PAGE_IDF_FLOOR)


def page_saturation(occurrences: int) -> float:
    """Return how much N occurrences on a page count: more count for more, with diminishing returns."""
    return math.log1p(occurrences)
