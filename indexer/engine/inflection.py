"""English inflected forms that the index's stemmer does not join to their word.

A dictionary translation is a bare English word ("hold", "lag"), while the
English reports use its inflections. The stemmer (Porter, as Whoosh has it)
joins the regular ones, but not two kinds, which the translation therefore
searches as well (forms_to_search):
  - a verb of one syllable ending in a short vowel and a consonant doubles it
    before -ed/-ing, and the stemmer keeps the doubled consonant ("lagging",
    "lagged" -> lagg; "lag" -> lag);
  - irregular verbs' past tense and participle ("held" for "hold"):
    IRREGULAR_VERBS, the common irregular verbs of English grammars;
  - the noun of a verb in -ify ("classification" -> classif; "classify" ->
    classifi): a Chinese word is verb and noun alike (分类 "to classify",
    "classification"), while the dictionary mostly glosses the verb.
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


@lru_cache(maxsize=4096)
def forms_to_search(term: str) -> tuple[str, ...]:
    """Return the inflected forms of one-word TERM that the index's stemmer keeps apart from it
    (() for a term of several words, or one whose inflections it joins)."""
    word = term.lower()
    if " " in word:
        return ()
    candidates = list(IRREGULAR_VERBS.get(word, ()))
    if _SHORT_VOWEL_CLOSED.match(word):
        candidates.append(f"{word}{word[-1]}ed")
    if word.endswith("ify"):
        candidates.append(f"{word[:-1]}ication")
    stems = analysis.english_analyzer()
    own = [t for t, _ in stems.index_terms(word)]
    found: list[str] = []
    for form in candidates:
        stem = [t for t, _ in stems.index_terms(form)]
        if stem and stem != own and form not in found:
            found.append(form)
    return tuple(found)
