"""Reply drafts: every bundled wording passes the guard, names are used only when they
are plain names, and nothing from a review is ever rendered as a template."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from service.config import BusinessConfig
from service.replies.drafter import ReplyDrafter, first_name
from tests.policy_oracle import reply_breaks_rule

CONTACTS = ["hello@harbourlane.example", "+353 1 555 0123", "https://harbourlane.example/contact"]


@pytest.mark.parametrize("contact", CONTACTS)
def test_every_bundled_template_passes_the_guard_and_the_oracle(contact: str) -> None:
    drafter = ReplyDrafter(BusinessConfig(name="Harbour Lane Bistro", contact=contact))
    assert len(drafter.templates) >= 3
    for template in drafter.templates:
        for author in ("Ana P.", None, "xX_critic_Xx", "Ζωή"):
            for platform in ("Google", "the App Store", ""):
                made = drafter.draft(key="k", author=author, platform=platform, limit=None, template=template)
                assert made.policy.ok, (template, made.policy.problems, made.text)
                assert reply_breaks_rule(made.text, contact) == [], made.text


@pytest.mark.parametrize(
    ("author", "expected"),
    [("Ana P.", "Ana"), ("tom", "Tom"), ("JOHN SMITH", "John"), ("Ζωή", "Ζωή"), ("Mary-Jane W", "Mary-Jane"),
     ("O'Brien", "O'Brien"), ("xX_critic_Xx", None), ("foodie_jen82", None), ("Anonymous", None), ("A Google User", None),
     ("{{ user.name }}", None), ("<b>Sam</b>", None), ("J.", None), ("", None), (None, None), ("  ", None)],
)
def test_first_name_only_for_plain_names(author: str | None, expected: str | None) -> None:
    assert first_name(author) == expected


def test_a_name_that_would_break_the_policy_is_left_out() -> None:
    drafter = ReplyDrafter(BusinessConfig(name="Cafe", contact="hi@cafe.example"))
    made = drafter.draft(key="k", author="Refund Smith", platform="", limit=None)
    assert made.policy.ok and "Refund" not in made.text


def test_wording_is_stable_per_review_and_spread_over_templates() -> None:
    drafter = ReplyDrafter(BusinessConfig(name="Cafe", contact="hi@cafe.example"))
    assert drafter.choose("src:1") == drafter.choose("src:1")
    spread = Counter(drafter.choose(f"src:{i}") for i in range(400))
    assert set(spread) == set(drafter.templates) and min(spread.values()) > 50


def test_custom_templates_render_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "negative").mkdir()
    (tmp_path / "negative" / "evil.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (tmp_path / "negative" / "nosy.j2").write_text("{{ review_text }}")
    drafter = ReplyDrafter(BusinessConfig(name="Cafe", contact="hi@cafe.example"), tmp_path)
    with pytest.raises(SecurityError):
        drafter.render("negative/evil.j2", first_name=None, platform="")
    with pytest.raises(UndefinedError):  # templates are never given the review text
        drafter.render("negative/nosy.j2", first_name=None, platform="")


def test_a_template_folder_without_wordings_is_a_config_error(tmp_path: Path) -> None:
    from service.errors import ConfigError

    with pytest.raises(ConfigError, match="no reply templates"):
        ReplyDrafter(BusinessConfig(name="Cafe", contact="hi@cafe.example"), tmp_path)
