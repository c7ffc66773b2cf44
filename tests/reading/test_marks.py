"""Escalation and triage marks: what sends a review to the top, what looks fake."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.config import DEFAULT_ESCALATION
from service.reading import marks
from service.reading.marks import escalation, text_hash, triage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am talking to my solicitor about this.", "legal action (solicitor)"),
        ("We will sue.", "legal action (sue)"),
        ("My husband got food poisoning and was sick all night.", "illness (food poisoning)"),
        ("My son had an allergic reaction; we ended up in A&E.", "injury (A&E), illness (allergic)"),
        ("There was a RAT running across the floor", "safety (RAT)"),
        ("The manager made racist comments.", "discrimination (racist)"),
        ("A waiter kept harassing my friend.", "harassment (harassing)"),
    ],
)
def test_serious_matters_escalate_with_the_word_that_showed_it(text: str, expected: str) -> None:
    assert escalation(text, None, DEFAULT_ESCALATION) == expected


@pytest.mark.parametrize("text", ["This is an issue with the menu.", "Rather slow service.", "Pursued by a very nice waiter", "Pleasant evening"])
def test_ordinary_words_do_not_escalate(text: str) -> None:
    assert escalation(text, None, DEFAULT_ESCALATION) is None


def test_the_word_is_shown_as_the_review_wrote_it() -> None:
    assert escalation("She was HARASSED twice", "Sued them", {"harassment": ["harass*"], "legal": ["sue*"]}) \
        == "harassment (HARASSED), legal (Sued)"
    assert escalation("Die Straße war gefährlich", None, {"safety": ["gefährlich*"]}) == "safety (gefährlich)"
    assert escalation("STRASSE: ein Ratte!", None, {"safety": ["ratte*"]}) == "safety (Ratte)"
    assert escalation("Große Ratte!", None, {"safety": ["ratte*"]}) == "safety (ratte)"  # "ß" folds to "ss": the folded word


def test_configured_keywords_replace_the_defaults() -> None:
    assert escalation("The glass was chipped", None, {"safety": ["chipped"]}) == "safety (chipped)"
    assert escalation("We will sue", None, {"safety": ["chipped"]}) is None


def test_the_same_words_from_anyone_hash_alike() -> None:
    a = text_hash("Best place in town, the staff were great and friendly!")
    assert a == text_hash("best place in town the staff were GREAT and friendly")
    assert a != text_hash("Best place in town, the staff were rude and slow!")
    assert text_hash("Great!") is None  # too short to mean anything when repeated


@pytest.mark.parametrize(
    ("text", "duplicate_of", "expected"),
    [
        ("Earn $5000/week from home, DM me", None, "reads like spam"),
        ("Great deals at www.cheap-stuff.example", None, "contains a link"),
        ("Amazing amazing place!!!", None, "no specifics"),
        ("Lovely chowder, friendly staff, a bit noisy.", 12, "the same text as review 12 by another reviewer"),
        ("Lovely chowder, friendly staff, a bit noisy.", None, None),
    ],
)
def test_triage_says_why_a_review_looks_fake(text: str, duplicate_of: int | None, expected: str | None) -> None:
    got = triage(text, None, duplicate_of=duplicate_of)
    assert (got is None) if expected is None else (expected in got)


_PIECES = sorted({part for words in DEFAULT_ESCALATION.values() for word in words for part in word.rstrip("*").split()}
                 | {"ing", "ed", "s", "ment", "ANAPHYLAXIS", "Ａ＆Ｅ", "a & e", "harass-", "_sue", "sued!", "my", "the", "ill", "after"})


def test_a_keyword_of_no_letters_matches_nothing() -> None:
    assert escalation("The waiter was rude.", None, {"legal": ["", "*", " "]}) is None
    assert escalation("I will call my lawyer.", None, {"legal": ["", "lawyer*"]}) == "legal (lawyer)"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=10), st.sampled_from([" ", "", "\n", ", "]))
def test_the_quick_word_screen_never_hides_a_keyword_the_patterns_find(pieces: list[str], glue: str) -> None:
    text = glue.join(pieces)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(marks, "_any_keyword", lambda _: re.compile(""))  # every keyword pattern searched, as before the screen
        expected = escalation(text, None, DEFAULT_ESCALATION)
    assert escalation(text, None, DEFAULT_ESCALATION) == expected
