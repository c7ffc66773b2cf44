"""Reply drafts: a wording that fits the review (its kind, its language, the platform's
limit, the source's contact), every bundled wording passes the guard, names are used only
when they are plain names, and nothing from a review is ever rendered as a template."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from connectors.base import ReplyLimit
from service.config import BusinessConfig, SourceConfig
from service.replies.drafter import FAMILIES, DraftRequest, ReplyDrafter, family_of, first_name
from tests.policy_oracle import reply_breaks_rule

CONTACTS = ["hello@harbourlane.example", "+353 1 555 0123", "https://harbourlane.example/contact"]
LANGUAGES = ("en", "es", "fr", "de")
SENIOR = {"en": "our general manager", "es": "nuestra directora general", "fr": "notre directrice générale",
          "de": "unsere Geschäftsführerin"}


def business(contact: str = "hello@harbourlane.example", **extra) -> BusinessConfig:
    return BusinessConfig(name="Harbour Lane Bistro", contact=contact, **extra)


def request(key: str = "src:1", **fields) -> DraftRequest:
    return DraftRequest(**{"key": key, "author": "Ana P.", "platform": "Google", "limit": None, **fields})


@pytest.mark.parametrize("contact", CONTACTS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_bundled_wording_passes_the_guard(contact: str, language: str) -> None:
    drafter = ReplyDrafter(business(contact, escalation_title=SENIOR[language]))
    for family in FAMILIES:
        wordings = drafter.wordings[(language, family)]
        assert len(wordings) >= 3, (language, family)
        for template in wordings:
            for author in ("Ana P.", None, "xX_critic_Xx", "Ζωή"):
                made = drafter.draft(request(author=author, family=family, language=language), template=template)
                assert made.template == template
                assert made.policy.ok, (template, made.policy.problems, made.text)
                if language == "en":  # the oracle reads English
                    assert reply_breaks_rule(made.text, contact) == [], made.text


@pytest.mark.parametrize(
    ("rating", "has_text", "escalation", "family"),
    [(1, True, None, "complaint"), (2, True, None, "complaint"), (1, False, None, "rating_only"),
     (3, True, None, "mixed"), (1, True, "illness", "serious"), (3, True, "legal action", "serious"),
     (1, False, "safety", "serious"), (None, True, None, "complaint")],
)
def test_the_wording_family_fits_the_review(rating, has_text, escalation, family) -> None:
    assert family_of(rating=rating, has_text=has_text, escalation=escalation) == family


def test_serious_wordings_are_grave_and_name_the_senior_contact() -> None:
    drafter = ReplyDrafter(business(escalation_contact="gm@harbourlane.example", escalation_title="our general manager"))
    for template in drafter.wordings[("en", "serious")]:
        made = drafter.draft(request(family="serious", language="en"), template=template)
        assert made.policy.ok, made.policy.problems
        assert "gm@harbourlane.example" in made.text and "hello@harbourlane.example" not in made.text
        assert "disappoint" not in made.text.lower() and "feedback" not in made.text.lower()
    ordinary = drafter.draft(request(family="complaint", language="en"))
    assert "hello@harbourlane.example" in ordinary.text and ordinary.policy.ok


def test_a_rating_without_text_gets_a_brief_reply_about_the_rating() -> None:
    drafter = ReplyDrafter(business())
    for template in drafter.wordings[("en", "rating_only")]:
        made = drafter.draft(request(family="rating_only", language="en"), template=template)
        assert made.policy.ok and len(made.text) < 400
        assert "read this" not in made.text and "your review" not in made.text  # there was nothing to read


@pytest.mark.parametrize(("language", "word"), [("es", "Gracias"), ("fr", "Merci"), ("de", "Danke")])
def test_a_review_in_spanish_french_or_german_gets_a_reply_in_its_language(language: str, word: str) -> None:
    drafter = ReplyDrafter(business())
    texts = [drafter.draft(request(key=f"src:{i}", language=language, family="complaint")) for i in range(12)]
    assert all(made.template.startswith(f"{language}/complaint/") for made in texts)
    assert all(made.policy.ok for made in texts), [m.policy.problems for m in texts]
    assert f"the review's language ({language})" in texts[0].note


def test_other_languages_get_the_business_language_and_say_why() -> None:
    made = ReplyDrafter(business(language="de")).draft(request(language="it"))
    assert made.template.startswith("de/complaint/") and made.policy.ok
    assert "business's language" in made.note and "(it)" in made.note
    unknown = ReplyDrafter(business()).draft(request(language=None))
    assert unknown.template.startswith("en/") and "unknown" in unknown.note


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("family", FAMILIES)
def test_a_short_platform_limit_gets_a_wording_that_fits_never_a_cut(language: str, family: str) -> None:
    drafter = ReplyDrafter(BusinessConfig(name="Harbour Lane Bistro and Oyster Bar Leeds",
                                          contact="guest.relations@harbourlane-leeds.example",
                                          escalation_title=SENIOR[language]))
    for index in range(8):  # whichever wording a review would start from
        made = drafter.draft(request(key=f"src:{index}", language=language, family=family, limit=ReplyLimit(350)))
        assert made.policy.ok and len(made.text) <= 350, (made.template, len(made.text))
        whole = drafter.render(made.template, first_name="Ana", platform="Google", serious=family == "serious")
        assert made.text == whole  # a whole wording, never one cut to fit


def test_each_source_can_have_its_own_contact() -> None:
    branch = SourceConfig(name="leeds", type="sample", contact="leeds@harbourlane.example",
                          escalation_contact="leeds-gm@harbourlane.example")
    drafter = ReplyDrafter(business(), sources=[branch])
    made = drafter.draft(request(source="leeds"))
    assert "leeds@harbourlane.example" in made.text and made.policy.ok
    serious = drafter.draft(request(source="leeds", family="serious"))
    assert "leeds-gm@harbourlane.example" in serious.text and serious.policy.ok
    # the guard accepts only that source's channels for its replies
    assert not drafter.check(made.text, None, source=None).ok
    assert drafter.check(made.text.replace("leeds@", "leeds-gm@"), None, source="leeds").ok


@pytest.mark.parametrize(
    ("author", "expected"),
    [("Ana P.", "Ana"), ("tom", "Tom"), ("JOHN SMITH", "John"), ("Ζωή", "Ζωή"), ("Mary-Jane W", "Mary-Jane"),
     ("O'Brien", "O'Brien"), ("xX_critic_Xx", None), ("foodie_jen82", None), ("Anonymous", None), ("A Google User", None),
     ("{{ user.name }}", None), ("<b>Sam</b>", None), ("J.", None), ("", None), (None, None), ("  ", None)],
)
def test_first_name_only_for_plain_names(author: str | None, expected: str | None) -> None:
    assert first_name(author) == expected


def test_a_name_that_would_break_the_policy_is_left_out() -> None:
    made = ReplyDrafter(business()).draft(request(author="Refund Smith"))
    assert made.policy.ok and "Refund" not in made.text


def test_wording_is_stable_per_review_spread_over_its_family_and_rotates_on_regenerate() -> None:
    drafter = ReplyDrafter(business())
    assert drafter.draft(request(key="src:1")).template == drafter.draft(request(key="src:1")).template
    wordings = drafter.wordings[("en", "complaint")]
    spread = Counter(drafter.draft(request(key=f"src:{i}")).template for i in range(400))
    assert set(spread) == set(wordings) and min(spread.values()) > 400 / len(wordings) / 2
    seen, template = [], None
    for _ in wordings:
        template = drafter.next_wording(template, request(key="src:1", family="complaint", language="en"))
        seen.append(template)
    assert sorted(seen) == sorted(wordings)  # every wording of the family, then round again


def test_custom_templates_render_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "negative").mkdir()
    (tmp_path / "negative" / "evil.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (tmp_path / "negative" / "nosy.j2").write_text("{{ review_text }}")
    drafter = ReplyDrafter(business(), tmp_path)
    with pytest.raises(SecurityError):
        drafter.render("negative/evil.j2", first_name=None, platform="")
    with pytest.raises(UndefinedError):  # templates are never given the review text
        drafter.render("negative/nosy.j2", first_name=None, platform="")


def test_a_template_folder_without_wordings_is_a_config_error(tmp_path: Path) -> None:
    from service.errors import ConfigError

    with pytest.raises(ConfigError, match="no reply templates"):
        ReplyDrafter(business(), tmp_path)
