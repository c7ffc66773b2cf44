"""Review words VADER's lexicon lacks or misreads (issue 6), fixed in reviewmon's copy.

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
Chosen from the vocabulary of reviews, never for one data set, while reading misses on
the `tune` split of bench/sentiment_eval.py only. A few words of praise VADER lacks are
here too, and REVIEW_NEUTRAL lists VADER words that in reviews mostly name a thing.
"""

from __future__ import annotations

REVIEW_LEXICON: dict[str, float] = {
    # as bad as "horrible" / "awful"
    "atrocious": -2.8, "abysmal": -2.8, "unwatchable": -2.5, "unbearable": -2.3, "inedible": -2.5,
    "filthy": -2.3, "garbage": -2.0, "rubbish": -2.0, "cringeworthy": -2.0, "inept": -2.0, "unrecommended": -2.0,
    "putrid": -2.5, "diabolical": -2.0, "drivel": -1.8, "turd": -2.0,
    # as bad as "poor" / "dull"
    "pointless": -1.8, "subpar": -1.8, "unfunny": -1.8, "unhelpful": -1.8, "junk": -1.8,
    "mediocre": -1.5, "tedious": -1.5, "tiresome": -1.5, "amateurish": -1.5, "overrated": -1.5,
    "underwhelming": -1.5, "overpriced": -1.5, "tasteless": -1.5, "flimsy": -1.5, "smelly": -1.5,
    "unresponsive": -1.5, "incoherent": -1.5, "nonsensical": -1.5, "lifeless": -1.5, "poorly": -1.5,
    "sloppy": -1.5, "cringe": -1.5, "unprofessionally": -1.5, "crummy": -1.5, "witless": -1.5,
    "soulless": -1.5, "grotty": -1.5, "grubby": -1.5,
    # as bad as "boring" / "mess"
    "bland": -1.3, "forgettable": -1.3, "unoriginal": -1.3, "uninspired": -1.3, "contrived": -1.3,
    "soggy": -1.2, "clunky": -1.2, "cumbersome": -1.2, "overcooked": -1.2, "undercooked": -1.2, "greasy": -1.0,
    "formulaic": -1.0, "implausible": -1.0, "superficial": -1.0, "plodding": -1.0, "yawn": -1.0,
    "pretentious": -1.3, "monotonous": -1.3, "unconvincing": -1.3, "uninspiring": -1.3, "misfire": -1.3,
    "misfires": -1.3, "naff": -1.3, "muddled": -1.2, "convoluted": -1.2, "stilted": -1.2, "listless": -1.2,
    "stale": -1.2, "rubbery": -1.2, "gimmicky": -1.0, "overdone": -1.0, "overwrought": -1.0, "derivative": -1.0,
    "jarring": -1.0, "shallow": -1.0, "watery": -1.0, "simplistic": -0.8, "meandering": -0.8,
    "unremarkable": -0.8,
    # service: shops, restaurants, hotels
    "unhygienic": -2.0, "unsanitary": -2.0, "mouldy": -2.0, "moldy": -2.0, "unappetizing": -1.8, "unappetising": -1.8,
    "undrinkable": -2.3, "uneatable": -2.3, "unclean": -1.8, "condescending": -1.8, "patronizing": -1.8,
    "patronising": -1.8, "surly": -1.8, "scammed": -2.5, "ripoff": -2.0, "overcharged": -1.8, "overcharging": -1.8,
    "shoddy": -1.8, "substandard": -1.8, "inattentive": -1.5, "dismissive": -1.5, "snotty": -1.5,
    "lackluster": -1.5, "lacklustre": -1.5, "uninteresting": -1.5, "unreliable": -1.5, "grumpy": -1.3,
    "understaffed": -1.3, "unorganized": -1.2, "disorganised": -1.2, "tacky": -1.2, "cramped": -1.0, "lukewarm": -1.0,
    # apps and devices
    "unusable": -2.0, "glitchy": -1.5, "buggy": -1.5, "crashes": -1.5, "crashing": -1.5, "crashed": -1.5,
    "laggy": -1.3, "froze": -1.0, "bloated": -1.0,
    # trouble in general: "issues with the app" is a complaint, so "no issues" (negated by
    # VADER) reads kindly instead of as the bare "no" (-1.2 in VADER) it read as before
    "issue": -0.8, "issues": -0.8, "hassle": -1.0, "hassles": -1.0, "fuss": -0.8, "glitch": -1.0,
    "glitches": -1.0, "bug": -1.0, "bugs": -1.0, "flaw": -1.0, "flaws": -1.0, "drawback": -1.0,
    "drawbacks": -1.0, "downsides": -1.0, "delays": -1.3, "hiccup": -0.8, "hiccups": -0.8,
    "gripe": -1.0, "gripes": -1.0, "inconveniences": -1.3, "nonexistent": -1.5, "nonexistant": -1.5,
    "nightmare": -2.3, "nightmares": -2.0, "finicky": -1.0, "flaky": -1.2, "fragile": -0.8, "skimped": -1.2,
    "skimp": -1.0, "embarassing": -1.6,
    # and a few words of praise it lacks, so "not great, but inexpensive" is not read as a complaint
    "inexpensive": 1.0, "affordable": 1.0,
    # films, books, shows
    "vapid": -1.5, "banal": -1.3, "hackneyed": -1.3, "unimaginative": -1.3, "cliched": -1.2, "clichéd": -1.2,
    "cliches": -1.0, "clichés": -1.0, "overlong": -1.0, "stagey": -1.0, "stagy": -1.0,
}

# VADER's words that in reviews mostly name a thing, not a feeling: an alarm clock, a Fire
# TV stick or a wood-fired oven, a cut of beef or a haircut. Taken out of reviewmon's copy.
REVIEW_NEUTRAL: frozenset[str] = frozenset({"alarm", "alarms", "fire", "cut"})
