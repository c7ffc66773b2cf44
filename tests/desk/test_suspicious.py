"""Suspicious reviews (issue 19): a review with a triage mark reaches the owner whatever its
rating, with where to report it, through the normal poll and a real database."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from sqlmodel import update

from service.desk import queries, reporting, suspicious
from service.models import Review
from service.polling import poll as poll_module
from tests import trustpilot_api as tp
from tests.conftest import write_jsonl

CRYPTO = "Great place!!! Earn 500% with bitcoin at http://crypto.example"
ROWS = [
    {"id": "crypto", "text": CRYPTO, "rating": 5, "author": "Coin Guy", "created_at": "2026-11-05T10:00:00+00:00",
     "url": "https://maps.example/reviews/crypto"},
    {"id": "angry-spam", "text": "Terrible food, cold and stale. Cheap deals on followers, message me on whatsapp.",
     "rating": 1, "author": "Promo", "created_at": "2026-11-04T10:00:00+00:00", "url": "javascript:alert(1)"},
    {"id": "fine", "text": "Lovely fish soup and friendly staff, we will come back for the mussels.", "rating": 4,
     "author": "Nora", "created_at": "2026-11-03T10:00:00+00:00", "url": "https://maps.example/reviews/fine"},
]


def rows_of(ctx, **filters) -> dict[str, dict]:
    with ctx.session() as session:
        removed = queries.removed_sources(session, ctx.config)
        return {row["author"]: row for row in suspicious.suspicious_rows(session, leave_out=removed, config=ctx.config,
                                                                            **filters)}


def count_of(ctx) -> int:
    with ctx.session() as session:
        return suspicious.suspicious_count(session, leave_out=queries.removed_sources(session, ctx.config))


@pytest.fixture
def ctx(make_context, tmp_path):
    write_jsonl(tmp_path / "google.jsonl", ROWS)
    write_jsonl(tmp_path / "closed.jsonl", [{"id": "c1", "text": "Visit now for a promo code!", "rating": 5, "author": "Gone",
                                                "created_at": "2026-11-01T10:00:00+00:00"}])
    sources = [{"name": "google-export", "type": "file", "path": "google.jsonl", "platform": "Google"},
               {"name": "closed-branch", "type": "file", "path": "closed.jsonl"}]
    ctx = make_context(sources)
    assert all(result.ok for result in asyncio.run(poll_module.poll(ctx)))
    return ctx


def test_a_five_star_spam_review_is_listed_with_where_to_report_it(ctx) -> None:
    rows = rows_of(ctx)
    crypto = rows["Coin Guy"]
    assert crypto["rating"] == 5 and crypto["text"] == CRYPTO and crypto["platform"] == "Google"
    assert crypto["triage"] == "reads like spam ('earn 500')"
    assert crypto["draft_id"] is None  # not negative: no draft, which is why the inbox never showed it
    assert crypto["report_url"] == "https://maps.example/reviews/crypto" and crypto["report_on"] == "Google"
    assert crypto["report_help"] is None  # a file source: no platform's help page to guess
    assert "Nora" not in rows  # nothing suspicious about her review


def test_a_one_star_spam_review_is_in_both_the_inbox_and_the_suspicious_view(ctx) -> None:
    spam = rows_of(ctx)["Promo"]
    with ctx.session() as session:
        inbox = {row["author"]: row for row in queries.inbox_rows(session, now=ctx.clock(), config=ctx.config)}
    assert spam["draft_id"] == inbox["Promo"]["draft_id"] is not None and spam["draft_status"] == "drafted"
    # its link is no web address: nowhere to send the owner but a sentence saying so
    assert spam["report_url"] is None and "no platform to report it to" in spam["report_note"]


def test_newest_first_filtered_and_counted_like_the_inbox(ctx) -> None:
    assert list(rows_of(ctx)) == ["Coin Guy", "Promo", "Gone"]
    assert list(rows_of(ctx, limit=1, offset=1)) == ["Promo"]
    assert list(rows_of(ctx, rating=1)) == ["Promo"]
    assert list(rows_of(ctx, source="closed-branch")) == ["Gone"]
    assert count_of(ctx) == 3


def test_a_source_no_longer_in_the_config_and_a_removed_review_are_left_out(ctx, make_context) -> None:
    ctx = make_context([{"name": "google-export", "type": "file", "path": "google.jsonl", "platform": "Google"}])
    assert "Gone" not in rows_of(ctx) and count_of(ctx) == 2
    with ctx.session() as session:
        session.exec(update(Review).where(Review.author == "Coin Guy").values(removed_at=ctx.clock()))
        session.commit()
    assert list(rows_of(ctx)) == ["Promo"] and count_of(ctx) == 1


@pytest.mark.parametrize(("source_type", "url", "expected"), [
    ("google", "https://www.google.com/maps/reviews/x", ("https://www.google.com/maps/reviews/x", reporting.HELP_PAGES["google"])),
    ("google", None, (reporting.HELP_PAGES["google"], reporting.HELP_PAGES["google"])),
    ("googleplay", "javascript:alert(1)", (reporting.HELP_PAGES["googleplay"], reporting.HELP_PAGES["googleplay"])),
    ("appstoreconnect", None, (reporting.HELP_PAGES["appstore"], reporting.HELP_PAGES["appstore"])),
    ("sample", "https://reviews.example/1", ("https://reviews.example/1", None)),
    ("sample", None, (None, None)),
    ("jsonld", "file:///etc/passwd", (None, None)),
])
def test_where_to_report(source_type, url, expected) -> None:
    report = reporting.where_to_report(source_type, url)
    assert (report.url, report.help) == expected
    assert (report.note is None) == (report.url is not None)


def test_every_help_page_is_a_platforms_own_https_page() -> None:
    import connectors

    assert set(reporting.HELP_PAGES) <= set(connectors.BUILT_IN)
    assert set(connectors.BUILT_IN) - set(reporting.HELP_PAGES) == {"file", "sample", "jsonld"}
    assert all(url.startswith("https://") for url in reporting.HELP_PAGES.values())


def test_a_trustpilot_spam_review_links_its_page_and_trustpilots_help(make_context, monkeypatch,
                                                                      respx_mock: respx.MockRouter) -> None:
    monkeypatch.setenv("TP_KEY", "tp-key-0123456789")
    spam = tp.review(1, stars=5, text="Best shop!!! Earn 500 a day from home, DM me on telegram", title="Wow")
    respx_mock.get(tp.BASE + tp.LISTING_PATH).mock(return_value=httpx.Response(200, json=tp.listing([spam])))
    ctx = make_context([{"name": "tp", "type": "trustpilot", "business_unit_id": tp.BUSINESS_UNIT, "api_key_env": "TP_KEY",
                         "base_url": tp.BASE}])
    assert all(result.ok for result in asyncio.run(poll_module.poll(ctx)))
    [row] = rows_of(ctx).values()
    assert row["platform"] == row["report_on"] == "Trustpilot" and row["rating"] == 5
    assert row["report_url"] == f"https://www.trustpilot.com/reviews/{tp.review_id(1)}"
    assert row["report_help"] == reporting.HELP_PAGES["trustpilot"]
