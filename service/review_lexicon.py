"""Words of review criticism that VADER's lexicon lacks (issue 6), added to it.

VADER's lexicon was built from social-media text: "atrocious", "mediocre", "bland",
"pointless" and "overpriced" are not in it, so "The dialogue is atrocious." scores a
compound of exactly 0. This is the one reviewed list of such words, with valences on
VADER's own scale (-4 to +4), each set beside a word VADER has of about the same force
("atrocious" as "horrible" -2.5, "mediocre" as "boring" -1.3). VADER's own rules then
apply to them as to its words: negation ("not bland"), boosters ("very bland"), "but".

Rules for an entry: negative in a review of almost anything (a meal, a shop, a product,
a film), whatever the sentence; a word with a common neutral or kind sense in reviews is
left out ("flat" white, "cheesy" pizza, "sticky" toffee, "slow"-cooked, a "shallow" pool,
"predictable" opening hours). Lower case, one word: VADER looks words up one at a time.
Chosen from the vocabulary of reviews, never for one data set; the thresholds that use
the scores were tuned on the `tune` split of bench/sentiment_eval.py only.
"""

from __future__ import annotations

REVIEW_LEXICON: dict[str, float] = {
    # as bad as "horrible" / "awful"
    "atrocious": -2.8, "abysmal": -2.8, "unwatchable": -2.5, "unbearable": -2.3, "inedible": -2.5,
    "filthy": -2.3, "garbage": -2.0, "rubbish": -2.0, "cringeworthy": -2.0, "inept": -2.0,
    # as bad as "poor" / "dull"
    "pointless": -1.8, "subpar": -1.8, "unfunny": -1.8, "unhelpful": -1.8, "junk": -1.8,
    "mediocre": -1.5, "tedious": -1.5, "tiresome": -1.5, "amateurish": -1.5, "overrated": -1.5,
    "underwhelming": -1.5, "overpriced": -1.5, "tasteless": -1.5, "flimsy": -1.5, "smelly": -1.5,
    "unresponsive": -1.5, "incoherent": -1.5, "nonsensical": -1.5, "lifeless": -1.5, "poorly": -1.5,
    "sloppy": -1.5, "cringe": -1.5, "unprofessionally": -1.5,
    # as bad as "boring" / "mess"
    "bland": -1.3, "forgettable": -1.3, "unoriginal": -1.3, "uninspired": -1.3, "contrived": -1.3,
    "soggy": -1.2, "clunky": -1.2, "overcooked": -1.2, "undercooked": -1.2, "greasy": -1.0,
    "formulaic": -1.0, "implausible": -1.0, "superficial": -1.0, "plodding": -1.0, "yawn": -1.0,
    "unremarkable": -0.8,
}
