"""The English forms a dictionary translation is searched in, spelled out for the exact fields.

A dictionary translation is a bare English word ("hold", "publications") or
a short gloss ("pilot scheme"), while the English reports use its other
forms. Translations are searched in the unstemmed fields (schema.EXACT_FIELDS),
not the stemmed ones, because Porter's stemmer also joins a translation with
words of other meanings ("publications" and "public" -> public, "related"
and "relation" -> relat). So every form to be found is listed (exact_forms):
  - the regular inflections (-s/-es, -ed, -ing), spelled by English rules;
    a gloss does not say whether it is a noun or a verb, so a one-word gloss
    gets both kinds, and a form that is no English word is in no index and
    costs one lookup;
  - irregular verbs' past tense and participle ("held" for "hold"):
    IRREGULAR_VERBS, the common irregular verbs of English grammars;
  - a few derivations a Chinese word covers as well, being noun, verb and
    adjective alike (DERIVATIONS: 讨论 "discuss" is also "discussion", 工业
    "industry" also "industrial", 全面 "comprehensive" also
    "comprehensively");
  - a plural gloss's singular (a plural gets nothing else).
A gloss of several words is an exact phrase, also searched with its last
word in the plural ("pilot scheme", "pilot schemes").
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import analysis

# One syllable ending in a single short vowel and a consonant (not w, x, y): "lag", "plan", "set".
_SHORT_VOWEL_CLOSED = re.compile(r"^[b-df-hj-np-tv-z]*[aeiou][b-df-hj-np-tvz]$")

# verb: its past tense and past participle (the irregular verbs of a school grammar's table).
IRREGULAR_VERBS = {
    verb: tuple(forms.split()) for verb, _, forms in (line.partition(" ") for line in """
arise arose arisen
awake awoke awoken
bear bore borne
beat beaten
become became
begin began begun
bend bent
bind bound
bite bit bitten
blow blew blown
break broke broken
breed bred
bring brought
build built
burn burnt
buy bought
catch caught
choose chose chosen
come came
cost
cut
deal dealt
dig dug
do did done
draw drew drawn
drink drank drunk
drive drove driven
eat ate eaten
fall fell fallen
feed fed
feel felt
fight fought
find found
flee fled
fly flew flown
forbid forbade forbidden
forecast
forget forgot forgotten
forgive forgave forgiven
freeze froze frozen
get got gotten
give gave given
go went gone
grind ground
grow grew grown
hang hung
have had
hear heard
hide hid hidden
hit
hold held
hurt
keep kept
know knew known
lay laid
lead led
lean leant
learn learnt
leave left
lend lent
let
lie lay lain
lose lost
make made
mean meant
meet met
overcome overcame
pay paid
put
quit
read
ride rode ridden
ring rang rung
rise rose risen
run ran
say said
see saw seen
seek sought
sell sold
send sent
set
shake shook shaken
shine shone
shoot shot
show shown
shrink shrank shrunk
shut
sing sang sung
sink sank sunk
sit sat
sleep slept
speak spoke spoken
spend spent
spread
stand stood
steal stole stolen
stick stuck
strike struck
strive strove striven
swear swore sworn
sweep swept
swim swam swum
take took taken
teach taught
tear tore torn
tell told
think thought
throw threw thrown
undergo underwent undergone
understand understood
undertake undertook undertaken
wake woke woken
wear wore worn
win won
withdraw withdrew withdrawn
write wrote written
""".strip().splitlines())
}


# Endings after which the plural and third person take -es ("bus" -> "buses", "approach" -> "approaches").
_SIBILANT_END = re.compile(r"(?:s|x|z|ch|sh)$")
# A consonant and y: "-y" becomes "-ies"/"-ied" ("study" -> "studies"), not after a vowel ("delay" -> "delays").
_CONSONANT_Y_END = re.compile(r"[^aeiou]y$")
# A plural's -s, not that of "-ss", "-us", "-is" or "news" (whose s is no plural ending).
_PLURAL_END = re.compile(r"[^suiw']s$")

# Derivations searched with a one-word gloss: (the ending it applies to, its replacement). A Chinese
# word is noun, verb and adjective alike, while a gloss names one of them. Only a derivation that
# Porter's stemmer joins to the word is searched (derived_forms): the stemmed search found it before,
# so none brings a word of another meaning that it did not ("state" does not bring "station").
DERIVATIONS = tuple((re.compile(ending), replacement) for ending, replacement in (
    (r"(ive|al|ent|ant|ous)$", r"\1ly"),    # comprehensive -> comprehensively
    (r"([^aeiouy])$", r"\1ful"),            # success -> successful
    (r"([^aeiouy])$", r"\1fully"),          # success -> successfully
    (r"(ss|ct|pt|st)$", r"\1ion"),          # discuss -> discussion, act -> action
    (r"(ss|ct|pt|st)$", r"\1ions"),
    (r"te$", "tion"),                       # contribute -> contribution, evaluate -> evaluation
    (r"te$", "tions"),
    (r"([^aeiou])y$", r"\1ial"),            # industry -> industrial, territory -> territorial
))


def regular_forms(word: str) -> tuple[str, ...]:
    """Return one-word WORD (lower case) and its regular inflections: -s/-es, -ed and -ing, spelled
    by English rules (a final silent e, a consonant's y, a short syllable's doubled consonant)."""
    if _SIBILANT_END.search(word):
        plural = word + "es"
    elif _CONSONANT_Y_END.search(word):
        plural = word[:-1] + "ies"
    else:
        plural = word + "s"
    if word.endswith("ie"):
        past, gerund = word + "d", word[:-2] + "ying"
    elif word.endswith(("ee", "ye", "oe")):
        past, gerund = word + "d", word + "ing"
    elif word.endswith("e"):
        past, gerund = word + "d", word[:-1] + "ing"
    elif _CONSONANT_Y_END.search(word):
        past, gerund = word[:-1] + "ied", word + "ing"
    elif _SHORT_VOWEL_CLOSED.match(word):
        past, gerund = word + word[-1] + "ed", word + word[-1] + "ing"
    else:
        past, gerund = word + "ed", word + "ing"
    return tuple(dict.fromkeys((word, plural, past, gerund)))


def derived_forms(word: str) -> tuple[str, ...]:
    """Return one-word WORD's derivations (DERIVATIONS) that the stemmer joins to it."""
    stems = analysis.english_analyzer()
    own = [t for t, _ in stems.index_terms(word)]
    forms = []
    for ending, replacement in DERIVATIONS:
        form, replaced = ending.subn(replacement, word, count=1)
        if replaced and [t for t, _ in stems.index_terms(form)] == own:
            forms.append(form)
    return tuple(forms)


@lru_cache(maxsize=4096)
def exact_forms(term: str) -> tuple[str, ...]:
    """Return the forms of dictionary TERM to search in the exact fields: the term, its regular
    inflections, an irregular verb's past forms, an -ify verb's -ification noun and its derivations;
    a plural with its singular only; a term of several words also with its last word in the plural
    ("pilot scheme", "pilot schemes")."""
    words = term.lower().split()
    if not words:
        return ()
    *head, last = words
    if head and last in analysis.STOP_WORDS:
        # A phrase ending in a function word ("be confronted with") has no inflected last word.
        return (" ".join(words),)
    if _PLURAL_END.search(last):
        # A plural gloss ("publications") is searched as written and in the singular.
        forms = [last, last[:-1]]
    elif head:
        # A phrase's last word is its head noun far more often than a verb ("pilot scheme"): its
        # plural only, as each form of a phrase costs a check of positions and of snippets.
        forms = list(regular_forms(last)[:2])
    else:
        forms = list(regular_forms(last))
        forms.extend(IRREGULAR_VERBS.get(last, ()))
        if last.endswith("ify"):
            forms.append(f"{last[:-1]}ication")
        forms.extend(derived_forms(last))
    prefix = " ".join(head) + " " if head else ""
    return tuple(dict.fromkeys(prefix + form for form in forms))
