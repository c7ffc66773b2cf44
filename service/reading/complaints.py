"""Complaint cues: review complaints that VADER's lexicon has no word for (issue 6).

"Food was cold.", "Waited 40 minutes.", "Sent it back." and "Never again." all score a
compound of exactly 0. This is the one reviewed list of such phrases; the sentiment pass
(service/reading/sentiment.py) flags a review without stars when one of them occurs un-negated.

Matching: on the folded text (lower case, curly apostrophes made straight), at word
boundaries. A cue does not count when a negation stands in the few words before it
("no complaints", "never had it break", "it was not cold", "didn't have to return it").
Keep each entry short and general to reviews of shops, restaurants and products: no
entry may exist for the sake of one data set.
"""

from __future__ import annotations

import re


def _not_after(*words: str) -> str:
    """Lookbehinds: the cue does not count right after one of these words."""
    return "".join(rf"(?<!\b{word} )" for word in words)


_PEOPLE = ("i", "we", "you", "he", "she")  # "I worked for a month", "we got sent back to our table"
# where a score in words ends: "1 out of 10.", "3/10 at best", not "1/5 of the price"
_SCORE_ENDS = r"(?=\s*(?:$|[.,!;:)]|stars?\b|points?\b|at (?:best|most)\b|from me\b|overall\b))"

# (what the reason calls it, the pattern); order is the order of the reason's preference
_CUES: tuple[tuple[str, str], ...] = (
    ("never again", r"never again|(?:will|would|i'll) never (?:buy|order) (?:again|from)\b|never (?:going|coming|go) back|won'?t (?:ever )?(?:be back|be returning|be coming back|go back|return|go (?:here|there) again)|(?:will|would) not (?:be back|be returning|go back|return)|wouldn'?t (?:go back|return)|don'?t go (?:here|there)|will never return|(?:will|would)(?: not|n'?t| never) (?:eat|go|come|order|buy|shop|stay)(?: \w+)? (?:here |there |from (?:here|there|them) )?again"),
    ("walked out", r"(?:we|i|they) (?:all )?(?:walked|got up and) (?:out|left)\b|had to walk out\b"),
    ("would not recommend", r"(?:would|could|will|do)(?: not|n'?t) recommend|nothing (?:at all )?to recommend|recommend against|not recommend(?:ed)?|can'?t recommend|cannot recommend"),
    ("waste of money", r"(?:want|wanted|get|got) my money back|waste of (?:money|time|\$\d+)|(?:(?:don'?t|do not|never) )?waste your (?:money|time)|spend your money (?:\w+ )?(?:elsewhere|some ?place else)|wish (?:i|we) could (?:get|bring|have) (?:\w+ ){0,4}back|(?:can|will|could|i'?ll)(?:n'?t| not| never) get (?:that|those|the|my|these) (?:\w+ ){0,3}back\b|(?:you can|just|i'?d|i would|we would) skip (?:this|it)\b|glad (?:i|we) didn'?t (?:pay|buy|spend)|what'?s the point|what is the point|\bbeware\b|(?:piece of|works like) (?:crap|junk|garbage|rubbish|trash|sh\w*)|down the drain|thanks for nothing|look elsewhere|thumbs[- ]down|bait and switch|save your money|not worth (?:it|the|the money|the price|any|a (?:penny|dime|cent)|wasting)|don'?t (?:buy|bother|purchase)|do not (?:buy|bother|purchase)|stay away"),
    ("waiting", r"(?:waited|wait(?:ing)? time was|waiting|wait|took) (?:for )?(?:over |about |almost |nearly |close to |at least |more than )?(?:\d+|an|one|two|three|twenty|thirty|forty|forty-five|45) ?(?:min(?:ute)?s?|hours?)|took forever|(?:still|kept) waiting|never (?:arrived|came|showed up|received)|still (?:hadn'?t|haven'?t|hasn'?t|didn'?t|has not|have not|had not|did not) (?:been )?(?:shipped|ship|arrived|arrive|delivered|come)"),
    ("cold or badly cooked food", r"(?:was|were|came out|arrived|is|are|served) (?:(?!not\b|never\b|no\b)\w+ )?(?:cold|lukewarm|stale|undercooked|overcooked|soggy|burnt|tasteless|bland|raw)\b"),
    ("fell short", r"expect(?:ed)? (?:better|more)|(?:could|should|would)(?: have|'ve) been better|not as good as|f[ae]ll(?:s)? short|\black(?:s|ed|ing)?\b|overpriced|\w+ at best|(?:was|is) a joke|disapp?oint\w*|dissapp?oint\w*|over-?rated|over rated|(?:was|were|is|are|so|too|very|really|extremely) slow\b|didn'?t (?:like|enjoy|care for)|far from (?:the )?(?:best|perfect|good|great|ideal|impressive|acceptable)\b|never quite\b|(?:doesn'?t|does not|didn'?t|did not) bode well|r[au]ns? out of (?:steam|ideas)|all[- ]time low\b|makes? (?:little|no) sense|made (?:little|no) sense|(?:doesn'?t|does not|didn'?t|did not) make (?:any )?sense|(?:don'?t|do not) (?:even )?get me started"),
    ("too much", r"too (?:expensive|pricey|costly|salty|sweet|greasy|oily|noisy|loud|crowded|cramped|dark|hot|dirty|slow|heavy|complicated|confusing|fragile|flimsy|weak|dim|late|predictable)\b|too (?:many|much) (?:problems|issues|bugs|ads|errors|mistakes|noise)\b"),
    ("rude or ignored", r"\brude\b|ignored (?:us|me)|never (?:acknowledged|greeted)"),
    ("no help or no answer", r"(?:was|were|is|are|been) (?:of )?no (?:help|use)\b|no help at all|(?:can'?t|cannot|couldn'?t|could not) get through|(?:does|do|did)(?:n'?t| not) answer (?:the|their|my|our) (?:phone|calls?|emails?)|never (?:got|get|heard) (?:in touch|through|back|a (?:reply|response|call back))|no (?:reply|response|answer) (?:from|to)\b|(?:won'?t|wouldn'?t|didn'?t|doesn'?t|will not|would not|did not|does not) (?:respond|reply) to (?:my|our|any|the)\b|never (?:responded|replied) to\b|(?:no ?one|nobody) (?:answered|answers|picked up|called (?:me )?back)|kept ringing"),
    ("low score", r"(?<![\d.])(?:[0-3](?:\.5)?|zero|one|two|three) ?(?:/|out of) ?10\b" + _SCORE_ENDS + r"|(?<![\d.])[01](?:\.5)? ?(?:/|out of) ?5\b" + _SCORE_ENDS + r"|\b(?:zero|0|one|1|half a) stars?\b(?! (?:off|less|deducted|taken|because|for|to))"),
    ("return or refund", r"refund|(?:return(?:ed|ing)?|sen[dt]|sending|took|take|taking) (?:it|them|this|these|the \w+) back|(?:returned|returning|will return|had to return|going back) (?:it|them|this|these|both)\b|\bit(?:'s| is) going back|" + _not_after(*_PEOPLE, "they") + r"(?:is|was|were|been|being|got|get) sent back|(?:decided|going|want|wanted|have|had) to return (?:it|them|this|these|the|my)\b"),
    ("broke or stopped working", r"\bbroke\b|\bbreaks\b|craps? out|too fragile|\bbroken\b|stopped working|quit working|stopped charging|(?:does|did|will)(?:n'?t| not) (?:hold (?:a |the )?charge|charge)|fell apart|falling apart|came apart|\bripped\b|\btore\b|\bdefective\b|(?:does|did|do)(?:n'?t| not) (?:work|function)|nothing (?:worked|works)|(?:quit|died|failed|broke) (?:after|in|within) (?:only |just |about )?(?:a|one|two|three|\d+) (?:days?|weeks?|months?)\b|(?:neither|none) (?:one )?of them (?:work|works|worked)|(?:lock(?:s|ed|ing)?|freez(?:es|ing)|froze) up\b|" + _not_after(*_PEOPLE, "who") + r"(?:worked|lasted) (?:great |fine |well |perfectly )?(?:for )?(?:about |only |just )?(?:a|one|two|three|four|five|six|\d+) (?:days?|weeks?|months?)\b|no longer (?:works?|worked|working)|(?:won'?t|will not|can'?t|cannot|couldn'?t) (?:turn on|connect|work|power (?:on|up))|(?:does|did|will|would)(?:n'?t| not) (?:recognize|recognise|detect) (?:my|the|it|any)\b|(?:can ?not|can'?t|couldn'?t|could not) get (?:it|them|this|the \w+) to (?:work|play|connect|turn on|charge|load)\b"),
    ("poor fit or material", r"(?:does|did)(?:n'?t| not) fit|too (?:small|big|large|tight|short|boxy)|cheap(?:ly made| material| fabric| quality| looking)|(?:feels|felt|looks|looked) cheap|see[- ]through|unflattering|\bitchy\b|\bshrank\b|\bshrunk\b"),
)
# with the apostrophe-less spellings reviews are full of ("arent too loud", "didnt break")
_NEGATORS = frozenset({"no", "not", "never", "without", "nothing", "none", "hardly", "nor", "zero", "arent", "isnt",
                       "wasnt", "werent", "dont", "doesnt", "didnt", "wont", "cant", "couldnt", "wouldnt", "havent", "hasnt"})
_LOOKBACK = 3  # words before a cue in which a negation cancels it

_PATTERN = re.compile("|".join(f"(?P<c{i}>\\b(?:{pattern}))" for i, (_name, pattern) in enumerate(_CUES)))
_WORD = re.compile(r"[a-z']+")


def fold(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def _negated(folded: str, start: int) -> bool:
    before = _WORD.findall(folded[max(0, start - 40):start])[-_LOOKBACK:]
    return any(word in _NEGATORS or word.endswith("n't") for word in before)


def find(text: str) -> tuple[str, str] | None:
    """(the cue's name, the words matched) for the first un-negated cue in the text, else None."""
    folded = fold(text)
    for match in _PATTERN.finditer(folded):
        if _negated(folded, match.start()):
            continue
        index = int(match.lastgroup[1:])
        return _CUES[index][0], match.group(0)
    return None
