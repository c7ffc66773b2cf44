"""`reviewmon backfill`: a source's whole history, read to the end, resumed after an
interruption at the page after the last one stored, each review stored once; refused
where the platform lists no history or another process holds the source."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import func
from sqlmodel import select

from connectors.appstore import AppStoreFeedConnector, AppStoreOptions
from connectors.errors import ConnectorError
from connectors.file import FileConnector
from connectors.googleplay import GooglePlayConnector, GooglePlayOptions
from connectors.http import Http, make_client
from connectors.paging import BACKFILL_DONE
from connectors.trustpilot import TrustpilotConnector, TrustpilotOptions
from service.errors import NotBackfillable, SourceBusy
from service.models import Alert, PollRun, PollStatus, Review, RunKind, Source
from service.polling import backfill as backfill_module
from service.polling import claims
from service.polling import poll as poll_module
from tests import appstore_connect_api as asc
from tests import appstore_feed, googleplay_api, trustpilot_api
from tests.conftest import run_cli, toml_value, write_jsonl
from tests.google_api import (
    ACCOUNT,
    BASE,
    ENV,
    LOCATION,
    OTHER_LOCATION,
    TOKEN_URL,
    error,
    listing,
    review,
    reviews_path,
)

GOOGLE = {"name": "gbp", "type": "google", "account_id": ACCOUNT, "location_ids": [LOCATION, OTHER_LOCATION],
          "base_url": BASE, "token_url": TOKEN_URL, "page_size": 3, "client_id_env": "GBP_CLIENT_ID",
          "client_secret_env": "GBP_CLIENT_SECRET", "refresh_token_env": "GBP_REFRESH_TOKEN"}
APPLE = {"name": "asc", "type": "appstoreconnect", "app_id": asc.APP_ID, "key_id": asc.KEY_ID, "issuer_id": asc.ISSUER_ID,
         "private_key_env": asc.KEY_ENV, "base_url": asc.BASE}
FILE = {"name": "imports", "type": "file", "path": "reviews.jsonl", "page_size": 2}
RECENT = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()


def backfill(ctx, name: str, **kwargs: Any) -> backfill_module.BackfillResult:
    return asyncio.run(backfill_module.backfill(ctx, name, **kwargs))


def stored(ctx) -> tuple[int, int]:
    """(reviews stored, distinct platform ids among them)."""
    with ctx.session() as session:
        return (session.exec(select(func.count()).select_from(Review)).one(),
                session.exec(select(func.count(func.distinct(Review.external_id)))).one())


def source_row(ctx, name: str) -> Source:
    with ctx.session() as session:
        return session.exec(select(Source).where(Source.name == name)).one()


def runs(ctx) -> list[PollRun]:
    with ctx.session() as session:
        return list(session.exec(select(PollRun).order_by(PollRun.id)))


# --- Google Business Profile --------------------------------------------------------------


class FakeGoogle:
    """Two locations' listings, 3 reviews a page (12 in LOCATION, 5 in OTHER_LOCATION). Page
    tokens belong to a generation: once `generation` moves on, an older token answers 400
    INVALID_ARGUMENT, as Google answers a page token it no longer takes."""

    SIZES = {LOCATION: 12, OTHER_LOCATION: 5}

    def __init__(self, router: respx.MockRouter):
        self.generation = "g1"
        self.failing: set[tuple[str, int]] = set()  # (location, page) answered 503
        self.asked: list[tuple[str, str | None]] = []
        router.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "ya29.a", "expires_in": 3599}))
        for location in self.SIZES:
            router.get(BASE + reviews_path(location)).mock(side_effect=partial(self.answer, location))

    def answer(self, location: str, request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        self.asked.append((location, token))
        number = 1
        if token is not None:
            generation, _, page = token.partition("-p")
            if generation != self.generation:
                return httpx.Response(400, json=error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
            number = int(page)
        if (location, number) in self.failing:
            return httpx.Response(503, json=error(503, "UNAVAILABLE", "The service is currently unavailable."))
        size = self.SIZES[location]
        reviews = [review(n, location=location) for n in range(3 * (number - 1), min(3 * number, size))]
        more = 3 * number < size
        return httpx.Response(200, json=listing(reviews, next_token=f"{self.generation}-p{number + 1}" if more else None))

    def ids(self) -> set[str]:
        return {review(n, location=loc)["reviewId"] for loc, size in self.SIZES.items() for n in range(size)}


@pytest.fixture
def google(make_context, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return make_context([GOOGLE]), FakeGoogle(respx_mock)


def test_google_backfill_reads_every_page_of_every_location(google) -> None:
    ctx, api = google
    seen: list[tuple[str, int]] = []
    result = backfill(ctx, "gbp", progress=lambda name, n: seen.append((name, n)))
    assert result.ok and result.finished, result.error
    assert api.asked == [(LOCATION, None), (LOCATION, "g1-p2"), (LOCATION, "g1-p3"), (LOCATION, "g1-p4"),
                         (OTHER_LOCATION, None), (OTHER_LOCATION, "g1-p2")]
    assert (result.pages, result.fetched, result.counts.inserted, result.rejected) == (6, 17, 17, 0)
    assert seen == [("gbp", 3)] * 5 + [("gbp", 2)]
    with ctx.session() as session:
        assert set(session.exec(select(Review.external_id))) == api.ids()
    row = source_row(ctx, "gbp")
    assert row.backfill_cursor is None and row.backfill_done_at is not None
    assert row.cursor is None and row.lease_owner is None  # the poll cursor is not a backfill's business
    [run] = runs(ctx)
    assert (run.status, run.fetched, run.inserted) == (PollStatus.ok, 17, 17)


def test_google_backfill_interrupted_on_page_3_resumes_there(google) -> None:
    ctx, api = google
    api.failing.add((LOCATION, 3))
    first = backfill(ctx, "gbp")
    assert not first.ok and "503" in first.error and (first.pages, first.counts.inserted) == (2, 6)
    assert source_row(ctx, "gbp").backfill_cursor == {"location": LOCATION, "page": 3, "page_token": "g1-p3"}
    assert backfill_module.describe(first.resume_at) == f"location {LOCATION}, page 3"

    api.failing.clear()
    api.asked.clear()
    second = backfill(ctx, "gbp")
    assert second.ok and second.finished and second.resumed_from == first.resume_at
    assert api.asked == [(LOCATION, "g1-p3"), (LOCATION, "g1-p4"), (OTHER_LOCATION, None), (OTHER_LOCATION, "g1-p2")]
    assert (second.counts.inserted, second.counts.unchanged) == (11, 0)
    assert stored(ctx) == (17, 17)
    assert [r.status for r in runs(ctx)] == [PollStatus.failed, PollStatus.ok]
    assert [r.kind for r in runs(ctx)] == [RunKind.backfill, RunKind.backfill] and "503" in runs(ctx)[0].error


def test_google_stale_page_token_restarts_that_location(google, caplog: pytest.LogCaptureFixture) -> None:
    ctx, api = google
    api.failing.add((OTHER_LOCATION, 2))
    assert not backfill(ctx, "gbp").ok  # stopped in the second location, its page 2 saved as g1-p2
    api.failing.clear()
    api.asked.clear()
    api.generation = "g2"  # a day later: Google no longer takes yesterday's tokens
    with caplog.at_level(logging.INFO, logger="reviewmon"):
        result = backfill(ctx, "gbp")
    assert result.ok and result.finished, result.error
    assert api.asked == [(OTHER_LOCATION, "g1-p2"), (OTHER_LOCATION, None), (OTHER_LOCATION, "g2-p2")]
    assert any("no longer takes the saved page token" in r.getMessage() for r in caplog.records)
    assert (result.counts.inserted, result.counts.unchanged) == (2, 3)  # page 1 read again, stored once
    assert stored(ctx) == (17, 17)


def test_a_resume_point_in_a_location_no_longer_configured_starts_over(google) -> None:
    ctx, api = google
    poll_module.sync_sources(ctx)
    with ctx.session(write=True) as session:
        row = session.exec(select(Source).where(Source.name == "gbp")).one()
        row.backfill_cursor = {"location": "9999999999", "page": 4, "page_token": "g1-p4"}
    result = backfill(ctx, "gbp")
    assert result.ok and api.asked[0] == (LOCATION, None) and stored(ctx) == (17, 17)


# --- App Store Connect --------------------------------------------------------------------


def asc_pages() -> dict[str | None, dict]:
    """Four pages of three reviews, linked by opaque cursors."""
    cursors = [None, "AQ.AN1", "AQ.AN2", "AQ.AN3"]
    return {cursor: asc.page([asc.review(n) for n in range(3 * i, 3 * i + 3)], next_cursor=cursors[i + 1] if i < 3 else None)
            for i, cursor in enumerate(cursors)}


@pytest.fixture
def apple(make_context, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter):
    monkeypatch.setenv(asc.KEY_ENV, asc.private_key_pem())
    state: dict[str, Any] = {"failing": set(), "expired": set(), "asked": [], "headers": {}}

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        state["asked"].append(cursor)
        if cursor in state["expired"]:
            state["expired"].discard(cursor)
            return httpx.Response(404, json=asc.error(404, "NOT_FOUND", "The specified resource does not exist", "cursor expired"))
        if cursor in state["failing"]:
            return httpx.Response(500, json=asc.error(500, "INTERNAL_ERROR", "An unexpected error occurred.", "try again"))
        return httpx.Response(200, json=asc_pages()[cursor], headers=state["headers"].get(cursor, {}))

    respx_mock.get(url__startswith=asc.BASE + asc.REVIEWS_PATH).mock(side_effect=answer)
    return make_context([APPLE]), state


def test_app_store_connect_backfill_follows_links_next_to_the_end(apple) -> None:
    ctx, api = apple
    result = backfill(ctx, "asc")
    assert result.ok and result.finished and api["asked"] == [None, "AQ.AN1", "AQ.AN2", "AQ.AN3"]
    assert (result.pages, result.counts.inserted) == (4, 12) and stored(ctx) == (12, 12)


def test_app_store_connect_interrupted_on_page_3_resumes_at_its_link(apple) -> None:
    ctx, api = apple
    api["failing"].add("AQ.AN2")
    first = backfill(ctx, "asc")
    assert not first.ok and (first.pages, first.counts.inserted) == (2, 6)
    saved = source_row(ctx, "asc").backfill_cursor
    assert saved == {"page": 3, "next": asc.next_link("AQ.AN2")}
    api["failing"].clear()
    api["asked"].clear()
    second = backfill(ctx, "asc")
    assert second.ok and api["asked"] == ["AQ.AN2", "AQ.AN3"]  # pages 1 and 2 are not asked for again
    assert second.counts.inserted == 6 and stored(ctx) == (12, 12)


def test_an_exhausted_hourly_limit_stops_after_the_page_and_resumes_later(apple) -> None:
    ctx, api = apple
    api["headers"]["AQ.AN1"] = asc.rate_header(0)
    first = backfill(ctx, "asc")
    assert not first.ok and "hourly request limit" in first.error and first.pages == 2
    api["headers"].clear()
    api["asked"].clear()
    assert backfill(ctx, "asc").ok and api["asked"] == ["AQ.AN2", "AQ.AN3"] and stored(ctx) == (12, 12)


def test_a_saved_link_apple_no_longer_honours_reads_the_listing_again(apple, caplog: pytest.LogCaptureFixture) -> None:
    ctx, api = apple
    api["failing"].add("AQ.AN2")
    assert not backfill(ctx, "asc").ok
    api["failing"].clear()
    api["asked"].clear()
    api["expired"].add("AQ.AN2")  # the next request with that cursor is refused, later ones (a new listing's) are not
    with caplog.at_level(logging.WARNING, logger="reviewmon"):
        result = backfill(ctx, "asc")
    assert result.ok and api["asked"] == ["AQ.AN2", None, "AQ.AN1", "AQ.AN2", "AQ.AN3"]
    assert any("refused the saved next link" in r.getMessage() for r in caplog.records)
    assert (result.counts.inserted, result.counts.unchanged) == (6, 6) and stored(ctx) == (12, 12)


# --- file ---------------------------------------------------------------------------------


def rows(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "text": f"Review number {i}, lovely.", "rating": 4, "created_at": RECENT} for i in range(start, start + n)]


@pytest.fixture
def imports(make_context, tmp_path: Path):
    write_jsonl(tmp_path / "reviews.jsonl", rows(7))
    return make_context([FILE]), tmp_path


def fail_after(pages: int, error: Exception | None = None):
    """FileConnector.backfill that breaks down after yielding `pages` pages."""
    original = FileConnector.backfill

    async def backfill(self, resume):
        yielded = 0
        async for page in original(self, resume):
            if yielded == pages:
                raise error or ConnectorError("the disk went away")
            yielded += 1
            yield page

    return backfill


def test_file_backfill_reads_the_whole_file_and_resumes_after_the_last_stored_line(imports, monkeypatch) -> None:
    ctx, _ = imports
    monkeypatch.setattr(FileConnector, "backfill", fail_after(2))
    first = backfill(ctx, "imports")
    assert not first.ok and first.error == "the disk went away" and first.counts.inserted == 4
    assert source_row(ctx, "imports").backfill_cursor["line"] == 4
    monkeypatch.undo()
    second = backfill(ctx, "imports")
    assert second.ok and second.finished and backfill_module.describe(second.resumed_from) == "after line 4"
    assert (second.fetched, second.counts.inserted, second.counts.unchanged) == (3, 3, 0)  # lines 1-4 not read again
    assert stored(ctx) == (7, 7) and source_row(ctx, "imports").backfill_cursor is None


def test_an_unexpected_error_is_recorded_and_the_pages_before_it_are_kept(imports, monkeypatch) -> None:
    ctx, _ = imports
    monkeypatch.setattr(FileConnector, "backfill", fail_after(1, RuntimeError("a bug in a connector")))
    result = backfill(ctx, "imports")
    assert not result.ok and result.error == "unexpected error: RuntimeError: a bug in a connector"
    assert result.counts.inserted == 2 and source_row(ctx, "imports").backfill_cursor["line"] == 2
    assert runs(ctx)[-1].status == PollStatus.failed and "a bug in a connector" in runs(ctx)[-1].error


def test_a_file_changed_since_the_interruption_is_read_again_from_the_top(imports, monkeypatch) -> None:
    ctx, folder = imports
    monkeypatch.setattr(FileConnector, "backfill", fail_after(1))
    assert not backfill(ctx, "imports").ok
    monkeypatch.undo()
    write_jsonl(folder / "reviews.jsonl", rows(8))
    result = backfill(ctx, "imports")
    assert result.ok and (result.fetched, result.counts.inserted, result.counts.unchanged) == (8, 6, 2)
    assert stored(ctx) == (8, 8)


def test_restart_reads_from_the_beginning(imports, monkeypatch) -> None:
    ctx, _ = imports
    monkeypatch.setattr(FileConnector, "backfill", fail_after(2))
    backfill(ctx, "imports")
    monkeypatch.undo()
    result = backfill(ctx, "imports", restart=True)
    assert result.ok and result.resumed_from is None and (result.fetched, result.counts.unchanged) == (7, 4)


def test_a_backfill_marks_nothing_removed_and_leaves_the_poll_cursor_alone(imports) -> None:
    ctx, folder = imports
    [polled] = asyncio.run(poll_module.poll(ctx, ["imports"]))
    assert polled.ok
    cursor = source_row(ctx, "imports").cursor
    write_jsonl(folder / "reviews.jsonl", rows(3, start=5))  # r1-r4 are no longer in the file
    assert backfill(ctx, "imports").ok
    with ctx.session() as session:
        assert session.exec(select(func.count()).select_from(Review).where(Review.removed_at.is_not(None))).one() == 0
    assert source_row(ctx, "imports").cursor == cursor


def test_a_lost_lease_stops_the_backfill(imports, monkeypatch) -> None:
    ctx, _ = imports
    monkeypatch.setattr(claims, "renew", lambda *args: False)
    result = backfill(ctx, "imports")
    assert not result.ok and "lost the claim" in result.error and result.pages == 1
    assert source_row(ctx, "imports").backfill_cursor["line"] == 2


def test_no_alerts_for_the_history_a_backfill_brings_in(make_context, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("service.alerts.enqueue")
    monkeypatch.setenv("TEST_ALERTS_HOOK", "json://127.0.0.1:9/hook")
    angry = [{"id": f"bad{i}", "text": "Waited an hour, the food was cold and the waiter was rude.", "rating": 1,
              "author": "Tom", "created_at": RECENT} for i in range(3)]
    write_jsonl(tmp_path / "reviews.jsonl", rows(1))
    channel = {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]}
    ctx = make_context([FILE], extra="\n[[alerts.channels]]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in channel.items()) + "\n")
    assert asyncio.run(poll_module.poll(ctx, ["imports"]))[0].ok  # not a first poll any more: news would alert
    write_jsonl(tmp_path / "reviews.jsonl", rows(1) + angry[:2])
    result = backfill(ctx, "imports")
    assert result.ok and result.counts.inserted == 2 and result.counts.drafted == 2

    def alerts() -> int:
        with ctx.session() as session:
            return session.exec(select(func.count()).select_from(Alert)).one()

    assert alerts() == 0
    write_jsonl(tmp_path / "reviews.jsonl", rows(1) + angry)  # the same review arriving through a poll does alert
    assert asyncio.run(poll_module.poll(ctx, ["imports"]))[0].ok
    assert alerts() == 1


# --- refusals and the command line ----------------------------------------------------------


def test_a_yelp_source_is_refused_with_the_reason(make_context, tmp_path: Path) -> None:
    ctx = make_context([{"name": "yelp", "type": "yelp", "business_id": "harbour-lane-bistro", "api_key_env": "YELP_KEY"}])
    with pytest.raises(NotBackfillable, match="only a few review excerpts"):
        backfill(ctx, "yelp")
    result = run_cli(tmp_path / "config.toml", "backfill", "--source", "yelp")
    assert result.exit_code == 1
    assert "source 'yelp' (yelp) cannot be backfilled: Yelp's API shows only a few review excerpts" in result.output
    assert runs(ctx) == []


def test_a_source_another_process_holds_is_refused(imports) -> None:
    ctx, folder = imports
    poll_module.sync_sources(ctx)
    assert claims.claim(ctx, "elsewhere.example:4242:abcdef", ["imports"], due_only=False, limit=1)
    with pytest.raises(SourceBusy, match=r"being polled by another process \(elsewhere.example:4242:abcdef\); try"):
        backfill(ctx, "imports")
    result = run_cli(folder / "config.toml", "backfill", "--source", "imports")
    assert result.exit_code == 1 and "being polled by another process" in result.output
    assert stored(ctx) == (0, 0) and source_row(ctx, "imports").lease_owner == "elsewhere.example:4242:abcdef"


def test_the_command_prints_a_summary_and_how_to_resume(imports, monkeypatch) -> None:
    ctx, folder = imports
    monkeypatch.setattr(FileConnector, "backfill", fail_after(2))
    stopped = run_cli(folder / "config.toml", "backfill", "--source", "imports")
    assert stopped.exit_code == 1
    assert "imports: STOPPED, from the start: 2 pages, 4 read, 4 new" in stopped.output
    assert "imports: backfill stopped: the disk went away" in stopped.output
    assert "run `reviewmon backfill --source imports` again to resume at after line 4" in stopped.output
    monkeypatch.undo()
    done = run_cli(folder / "config.toml", "backfill", "--source", "imports")
    assert done.exit_code == 0, done.output
    assert "imports: reaches the whole file" in done.output
    assert "imports: done, from after line 4: 2 pages, 3 read, 3 new, 0 changed, 0 unchanged, 0 rejected" in done.output


# --- the other connectors' backfill(), against their documented shapes ----------------------


def read_backfill(connector_type, options, resume=None) -> list:
    async def main():
        async with make_client() as client:
            connector = connector_type(options, http=Http(client))
            return [page async for page in connector.backfill(resume)]

    return asyncio.run(main())


@respx.mock
def test_trustpilot_backfill_pages_to_the_end_and_resumes_at_a_page_number(monkeypatch) -> None:
    monkeypatch.setenv("TP_KEY", "tp-key")
    bodies = {n: trustpilot_api.listing([trustpilot_api.review(3 * n + i) for i in range(3)], page=n, next_page=n + 1 if n < 3 else None)
              for n in (1, 2, 3)}
    route = respx.get(trustpilot_api.BASE + trustpilot_api.LISTING_PATH).mock(
        side_effect=lambda request: httpx.Response(200, json=bodies[int(request.url.params["page"])]))
    options = TrustpilotOptions(business_unit_id=trustpilot_api.BUSINESS_UNIT, api_key_env="TP_KEY", base_url=trustpilot_api.BASE)
    pages = read_backfill(TrustpilotConnector, options)
    assert [p.cursor for p in pages] == [{"page": 2}, {"page": 3}, BACKFILL_DONE] and not any(p.complete for p in pages)
    before = len(route.calls)
    resumed = read_backfill(TrustpilotConnector, options, {"page": 3})
    assert [c.request.url.params["page"] for c in route.calls[before:]] == ["3"] and len(resumed[0].reviews) == 3


@respx.mock
def test_the_app_store_feed_backfill_stops_at_its_tenth_page() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.path.split("page=")[1].split("/")[0])
        return httpx.Response(200, json=appstore_feed.feed([appstore_feed.entry(number * 100 + i) for i in range(2)]))

    route = respx.get(url__startswith=appstore_feed.BASE).mock(side_effect=answer)
    options = AppStoreOptions(app_id=appstore_feed.APP_ID, base_url=appstore_feed.BASE)
    pages = read_backfill(AppStoreFeedConnector, options, {"page": 9})
    assert [c.request.url.path for c in route.calls] == [appstore_feed.page_path(9), appstore_feed.page_path(10)]
    assert [p.cursor for p in pages] == [{"page": 10}, BACKFILL_DONE]
    assert "most recent" in AppStoreFeedConnector.capabilities.history


def test_google_play_backfill_restarts_when_its_saved_token_is_refused(tmp_path: Path) -> None:
    bodies = {None: googleplay_api.listing([googleplay_api.review(1)], "p2"), "p2": googleplay_api.listing([googleplay_api.review(2)])}

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("token")
        if token not in bodies:
            return httpx.Response(400, json={"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid token"}})
        return httpx.Response(200, json=bodies[token])

    key = googleplay_api.service_account_file(tmp_path)
    with respx.mock:
        respx.post(googleplay_api.TOKEN_URL).mock(return_value=httpx.Response(200, json=googleplay_api.token_answer()))
        route = respx.get(googleplay_api.BASE + googleplay_api.APP_PATH + "/reviews").mock(side_effect=answer)
        options = GooglePlayOptions(package_name=googleplay_api.PACKAGE, service_account_file=key, base_url=googleplay_api.BASE)
        pages = read_backfill(GooglePlayConnector, options, {"page": 5, "token": "expired"})
    assert [c.request.url.params.get("token") for c in route.calls] == ["expired", None, "p2"]
    assert [p.cursor for p in pages] == [{"page": 2, "token": "p2"}, BACKFILL_DONE]
    assert "7 days" in GooglePlayConnector.capabilities.history


def test_every_source_type_either_backfills_or_says_why_not() -> None:
    import connectors

    for name, kind in connectors.available().items():
        assert kind.capabilities.history, name
    refused = {name for name, kind in connectors.available().items() if not hasattr(kind, "backfill")}
    assert refused == {"yelp", "tripadvisor", "jsonld"}
    assert json.dumps(BACKFILL_DONE) == '{"done": true}'
