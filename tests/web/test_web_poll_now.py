""""Poll now" polls (issue 19): with `serve --no-scheduler` and no cron, a click polls the
source in the background of the web app and the sources page shows how it went; a source
being polled is not polled twice; the scheduler, when it runs, polls it at once.

The app runs as `reviewmon serve` runs it, lifespan included, on the test's event loop:
the background polls go on while the test reads the page, as they do while uvicorn serves."""

from __future__ import annotations

import asyncio
import html
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import func, select

from service.context import Context
from service.desk import users
from service.models import PollRun, Review, Source
from service.polling import poll as poll_module
from service.polling.poll import sync_sources
from service.web import create_app
from service.web import poll_now as poll_now_module
from tests import web_session
from tests.conftest import write_jsonl

PASSWORD = "correct horse battery staple"
DEADLINE = 30.0  # seconds a background poll may take here (the first one loads VADER)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def flash(page: str) -> str:
    found = re.search(r'<p class="flash[^"]*" role="status">(.*?)</p>', page, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def health(page: str, source: str) -> str:
    """The words of the source's row on the sources page."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL):
        if f'?source={source}"' in row:
            return text_of(row).strip()
    raise AssertionError(f"no row for {source} on the page: {text_of(page)}")


@asynccontextmanager
async def serving(ctx: Context, name: str, *, scheduler: bool = False) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The app served as `reviewmon serve` serves it (its lifespan runs: it starts and stops
    the background polls) to a browser logged in as `name`; and its CSRF token."""
    app = create_app(ctx, scheduler=scheduler)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            assert (await web_session.login(client, name, PASSWORD)).status_code == 303
            yield client, await web_session.token(client, "/inbox")


async def poll_now(client: httpx.AsyncClient, csrf: str, source: str) -> str:
    """Click "Poll now": the answer is a redirect to the sources page, which is returned."""
    clicked = await client.post(f"/sources/{source}/poll-now", data={"csrf_token": csrf})
    assert clicked.status_code == 303 and clicked.headers["location"] == "/sources", clicked.text
    return (await client.get("/sources")).text


async def page_when(client: httpx.AsyncClient, done: Callable[[str], bool], seconds: float = DEADLINE) -> str:
    """The sources page once `done(page)`, read again every 50 ms until the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        page = (await client.get("/sources")).text
        if done(page):
            return page
        assert time.monotonic() < deadline, f"the page never got there: {text_of(page)}"
        await asyncio.sleep(0.05)


def runs(ctx: Context, source: str) -> list[PollRun]:
    with ctx.session() as session:
        return list(session.exec(select(PollRun).join(Source).where(Source.name == source).order_by(PollRun.id)))


def stored(ctx: Context, source: str) -> int:
    with ctx.session() as session:
        return session.exec(select(func.count()).select_from(Review).join(Source).where(Source.name == source)).one()


REVIEWS = [
    {"id": "r1", "text": "Cold soup and a rude waiter. Awful.", "rating": 1, "author": "Sam"},
    {"id": "r2", "text": "Lovely chowder, friendly people!", "rating": 5, "author": "Ann"},
]


@pytest.fixture
def ctx(make_context, fake_type, tmp_path) -> Context:
    """An export with two new reviews, a file that is not there, a disabled source, and a
    platform that answers slowly (30 s: a poll under way for as long as a test needs)."""
    write_jsonl(tmp_path / "export.jsonl", REVIEWS)
    fake_type.FakeSource("slow").wait(30.0).page(fake_type.review("s1"))
    context = make_context([
        {"name": "export", "type": "file", "path": "export.jsonl", "platform": "Google"},
        {"name": "missing", "type": "file", "path": "not-there.jsonl"},
        {"name": "resting", "type": "file", "path": "export.jsonl", "enabled": False},
        {"name": "slow", "type": "fake", "script": "slow"},
    ])
    users.add_user(context, "olive", "owner", PASSWORD)
    users.add_user(context, "mia", "marketer", PASSWORD)
    return context


@pytest.mark.anyio
async def test_poll_now_polls_the_source_without_the_scheduler_and_shows_how_it_went(ctx: Context) -> None:
    async with serving(ctx, "olive") as (client, csrf):
        before = (await client.get("/sources")).text
        assert "Poll now polls one right away, here" in text_of(before)
        assert "Last poll" not in health(before, "export")
        page = await poll_now(client, csrf, "export")
        assert flash(page) == "Polling export now. This page shows how it went when it ends."
        done = await page_when(client, lambda page: "Last poll" in health(page, "export"))
        assert "polling now…" not in health(done, "export") and "reloads itself" not in text_of(done)
        assert re.search(r"Last poll \d{4}-\d\d-\d\d \d\d:\d\d: 2 new, 0 changed, 1 drafted", health(done, "export"))
        assert (await client.get("/inbox")).status_code == 200
    assert stored(ctx, "export") == 2
    assert [(run.status, run.inserted) for run in runs(ctx, "export")] == [("ok", 2)]
    assert runs(ctx, "missing") == [] and runs(ctx, "slow") == []  # the one source clicked, and only it


@pytest.mark.anyio
async def test_a_failing_source_shows_its_error_and_the_web_app_keeps_serving(ctx: Context, tmp_path) -> None:
    async with serving(ctx, "olive") as (client, csrf):
        await poll_now(client, csrf, "missing")
        done = await page_when(client, lambda page: "Last poll" in health(page, "missing"))
        row = health(done, "missing")
        assert "failing" in row and "failed" in row
        assert f"cannot read {tmp_path / 'not-there.jsonl'}: No such file or directory" in row  # the last error
        assert (await client.get("/inbox")).status_code == 200 and (await client.get("/sources")).status_code == 200
        await poll_now(client, csrf, "export")  # and it still polls
        await page_when(client, lambda page: "2 new" in health(page, "export"))
    [failed] = runs(ctx, "missing")
    assert failed.status == "failed" and "No such file or directory" in failed.error


@pytest.mark.anyio
async def test_a_poll_that_cannot_start_is_logged_and_said_on_the_page(ctx: Context, monkeypatch, caplog) -> None:
    async def database_gone(*args, **kwargs):
        raise RuntimeError("the database server went away")

    monkeypatch.setattr(poll_module, "poll", database_gone)  # before any run could be recorded
    async with serving(ctx, "olive") as (client, csrf):
        await poll_now(client, csrf, "export")
        done = await page_when(client, lambda page: "could not poll it" in health(page, "export"))
        assert ("Poll now could not poll it: RuntimeError: the database server went away. The server's log says more."
                in health(done, "export"))
        assert (await client.get("/inbox")).status_code == 200
    assert "Poll now: polling export failed" in caplog.text and "went away" in caplog.text


@pytest.mark.anyio
async def test_a_second_click_while_the_poll_runs_starts_no_second_poll(ctx: Context, monkeypatch) -> None:
    monkeypatch.setattr(poll_now_module, "STOP_GRACE", 0.2)
    async with serving(ctx, "olive") as (client, csrf):
        first = await poll_now(client, csrf, "slow")
        assert flash(first) == "Polling slow now. This page shows how it went when it ends."
        assert "polling now…" in health(first, "slow") and '<meta http-equiv="refresh"' in first
        assert "reloads itself" in text_of(first)
        await page_when(client, lambda page: len(runs(ctx, "slow")) == 1)  # under way: claimed, its run started
        second = await poll_now(client, csrf, "slow")
        assert flash(second).startswith("slow is being polled now (asked for here)")
        assert "No second poll was started." in flash(second) and "polling now…" in health(second, "slow")
        other = await poll_now(client, csrf, "export")  # another source meanwhile: polled after the slow one
        assert "waiting for another poll to end…" in health(other, "export")
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10  # shutdown cancels the polls under way, after its short grace
    assert len(runs(ctx, "slow")) == 1 and runs(ctx, "export") == []
    with ctx.session() as session:
        assert session.exec(select(Source.lease_owner).where(Source.name == "slow")).one() is None  # given back


@pytest.mark.anyio
async def test_a_source_another_process_is_polling_is_left_to_it(ctx: Context) -> None:
    """A worker, cron or the CLI holds the source: the click says so and polls nothing."""
    sync_sources(ctx)
    async with serving(ctx, "olive") as (client, csrf):
        cron = f"{socket.gethostname()[:60]}:{os.getpid()}:cron01"  # a live process on this machine
        with ctx.session(write=True) as session:
            session.exec(update(Source).where(Source.name == "export").values(
                lease_owner=cron, lease_until=ctx.clock() + timedelta(minutes=5)))
        page = await poll_now(client, csrf, "export")
        assert flash(page) == (f"export is being polled now (by another process: {cron}); this page shows how it went "
                               "when it ends. No second poll was started.")
        assert "polling now…" in health(page, "export") and "reloads itself" not in text_of(page)
    assert runs(ctx, "export") == []


@pytest.mark.anyio
async def test_only_owners_may_poll_and_only_enabled_sources(ctx: Context) -> None:
    async with serving(ctx, "mia") as (client, csrf):
        page = (await client.get("/sources")).text
        assert "/poll-now" not in page and "<button" not in page.replace('<button type="submit" class="link">Log out', "")
        refused = await client.post("/sources/export/poll-now", data={"csrf_token": csrf})
        assert refused.status_code == 403 and "Not allowed" in refused.text
    async with serving(ctx, "olive") as (client, csrf):
        assert (await client.post("/sources/export/poll-now", data={"csrf_token": "forged"})).status_code == 403
        assert "not polled" in health((await client.get("/sources")).text, "resting")
        resting = await client.post("/sources/resting/poll-now", data={"csrf_token": csrf})
        assert resting.status_code == 404
        assert "resting is disabled in the config (enabled = false): nothing will poll it" in text_of(resting.text)
        assert (await client.post("/sources/nowhere/poll-now", data={"csrf_token": csrf})).status_code == 404
    assert all(runs(ctx, name) == [] for name in ("export", "resting"))


@pytest.mark.anyio
async def test_with_the_scheduler_the_worker_polls_it_at_once(ctx: Context, make_context, tmp_path) -> None:
    slow_ticks = '\n[poll]\ntick = "1h"\n'  # the first tick, at start, and no other while the test runs
    ctx = make_context([{"name": "export", "type": "file", "path": "export.jsonl", "platform": "Google"}], extra=slow_ticks)
    async with serving(ctx, "olive", scheduler=True) as (client, csrf):
        assert "runs without the scheduler" not in (await client.get("/sources")).text
        await page_when(client, lambda page: "2 new" in health(page, "export"))  # due at start: the first tick polls it
        write_jsonl(tmp_path / "export.jsonl", [*REVIEWS, {"id": "r3", "text": "Great fish.", "rating": 5}])
        page = await poll_now(client, csrf, "export")  # not due for a while: polled because of the click
        assert flash(page) == "Polling export now. This page shows how it went when it ends."
        done = await page_when(client, lambda page: "1 new, 0 changed" in health(page, "export"))
        assert "Last poll" in health(done, "export")
    assert stored(ctx, "export") == 3
    assert [run.inserted for run in runs(ctx, "export")] == [2, 1]
