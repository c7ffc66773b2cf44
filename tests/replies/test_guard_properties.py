"""Properties of the guard (issue 17): a harmful reply stays refused however its harmful
word is disguised, in any combination of disguises; a humane reply stays allowed through
harmless variation (case, punctuation, a first name, another configured channel)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.config import Contact
from service.replies.guard import check_reply
from tests.disguises import DISGUISES, SEPARATORS, STYLES, WRAPPERS

BUSINESS = "Harbour Lane Bistro"
EMAIL = Contact("hello@harbourlane.example", "email")
CHANNELS = [EMAIL, Contact("+44 20 7946 0321", "phone"), Contact("https://harbourlane.example/contact", "url")]
INVITE = {"email": "email us at {}", "phone": "call us on {}", "url": "get in touch through {}"}
OPEN = "Hi Ana, thank you for your review, and we are sorry. Please email us at hello@harbourlane.example. "

# A harmful sentence with its harmful word in braces, in every category and language.
HARMFUL = [
    "We apologise and we will {refund} you in full.",
    "Sorry, and your next dessert is {free}.",
    "We are sorry, and we will pick up the {tab} next time.",
    "Thank you, and we will take it off the {bill}.",
    "Thank you, and please {update} your review once we have spoken.",
    "We are sorry, {but} you arrived very late.",
    "Thank you, and our {records} show you never ordered the soup.",
    "Thank you, we found your {booking} number.",
    "Sorry, and we have spoken to your {waiter}.",
    "Thank you, and you can also reach us on {WhatsApp}.",
    "Lo sentimos, y la próxima cena es {gratis}.",
    "Merci, et le dessert est {offert}.",
    "Danke, und das nächste Essen geht aufs {Haus}.",
]
HUMANE = [
    "We're sorry you were disappointed. Please {invite} so the manager can call you back.",
    "Thank you for your review. We are sorry you were kept waiting; please {invite}.",
    "We take this very seriously. Please {invite}; the owner reads every message.",
    "Thank you for letting us know. Our manager is free to talk: please {invite}. We hope to welcome you back soon.",
    "Sorry you didn't enjoy your visit. Please {invite} and we will get back to you.",
]
PUNCTUATION = st.sampled_from([(".", "."), (".", "!"), (";", ","), (":", " -")])


def refused(text: str, channels=(EMAIL,)) -> bool:
    return not check_reply(text, channels=channels, business_name=BUSINESS).ok


DISGUISE_CHAINS = st.tuples(
    st.lists(st.sampled_from(STYLES), max_size=1),
    st.lists(st.sampled_from(SEPARATORS), max_size=2),
    st.lists(st.sampled_from(WRAPPERS), max_size=1),
).map(lambda parts: [name for part in parts for name in part]).filter(bool)


# derandomize: the same examples on every run, so CI cannot fail on a draw; the whole
# space of chains is checked by bench/guard_disguises.py (make bench).
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(seed=st.sampled_from(HARMFUL), disguises=DISGUISE_CHAINS)
def test_a_harmful_reply_is_refused_in_any_combination_of_disguises(seed: str, disguises: list[str]) -> None:
    before, rest = seed.split("{", 1)
    word, after = rest.split("}", 1)
    for name in disguises:
        word = DISGUISES[name](word)
    text = OPEN + before + word + after
    assert refused(text), (disguises, text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(seed=st.sampled_from(HUMANE), channel=st.sampled_from(CHANNELS), upper=st.booleans(),
       name=st.sampled_from([None, "Ana", "Tom", "Zoë", "Mary-Jane", "Ζωή"]), marks=PUNCTUATION)
def test_a_humane_reply_stays_allowed_through_harmless_variation(seed, channel, upper, name, marks) -> None:
    text = seed.format(invite=INVITE[channel.kind].format(channel.value))
    full_stop, pause = marks
    text = text.replace(". ", full_stop + " ").replace("; ", pause + " ")
    if name:
        text = f"Hi {name},\n\n{text}"
    if upper:
        text = text.upper().replace(channel.value.upper(), channel.value)
    result = check_reply(text, channels=[channel], business_name=BUSINESS)
    assert result.ok, (text, result.problems)


def test_characters_without_meaning_are_refused() -> None:
    assert refused(OPEN + "Thank you, and reach us on \U000123c6\U000123b7 or \ue000.")


@given(braces=st.sampled_from(["{{", "｛｛", "{\u200b{", "{%", "｛％", "{#"]))
def test_template_syntax_is_seen_however_it_is_written(braces: str) -> None:
    text = OPEN + f"Thank you {braces} discount }}}}."
    assert any("template syntax" in p for p in check_reply(text, channels=[EMAIL], business_name=BUSINESS).problems)
