"""The run history: every poll and backfill is on record (`reviewmon runs`, /sources/runs),
with what it did or why it failed, and a source's old runs go at its next poll."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlmodel import select

from connectors.base import RowError
from connectors.errors import ConnectorError
from service.desk import users
from service.models import PollRun, PollStatus, RunKind, Source
from service.polling import poll as poll_module
from tests.conftest import run_cli
from tests.fakeconnector import FakeSource, review
from tests.web_session import logged_in

HOSTILE = "\x1b[31m<script>alert(1)</script>{{ 7*7 }}"


@pytest.fixture
def polled(make_context, fake_type, tmp_path):
    """Source `shop`: a first poll that stores two reviews and skips a bad row, then a poll
    that fails with a hostile error. Source `cafe`: one good poll."""
    FakeSource("shop").page(review("a", "Cold soup. Awful.", 1), review("b"), cursor={"n": 1},
                            errors=[RowError("entry 3", "rating missing", raw={"id": 3})])
    FakeSource("cafe").page(review("c"), cursor={"n": 1})
    ctx = make_context([{"name": "shop", "type": "fake", "script": "shop"},
                        {"name": "cafe", "type": "fake", "script": "cafe"}])
    asyncio.run(poll_module.poll(ctx))
    FakeSource("shop").fail(ConnectorError(HOSTILE))
    asyncio.run(poll_module.poll(ctx, names=["shop"], due_only=False))
    return ctx, tmp_path / "config.toml"


def runs(config, *args: str) -> list[dict]:
    result = run_cli(config, "runs", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_each_poll_is_listed_newest_first_with_what_it_did(polled) -> None:
    _, config = polled
    listed = runs(config)
    assert (listed[0]["source"], listed[0]["status"]) == ("shop", "failed")  # the latest first
    assert sorted((r["source"], r["status"]) for r in listed[1:]) == [("cafe", "ok"), ("shop", "ok")]  # polled together
    assert {r["kind"] for r in listed} == {"poll"}
    first = next(r for r in listed if r["source"] == "shop" and r["status"] == "ok")
    assert (first["fetched"], first["inserted"], first["rejected"], first["drafted"]) == (3, 2, 1, 1)
    assert first["problems"] == [{"where": "entry 3", "message": "rating missing", "raw": '{"id": 3}'}]
    assert first["seconds"] >= 0 and first["finished_at"] >= first["started_at"]
    failed = listed[0]
    assert failed["error"].endswith(HOSTILE) and failed["inserted"] == 0


def test_filters_narrow_the_list(polled) -> None:
    _, config = polled
    assert [r["status"] for r in runs(config, "--source", "shop")] == ["failed", "ok"]
    assert [r["source"] for r in runs(config, "--failed")] == ["shop"]
    assert runs(config, "--kind", "backfill") == []
    assert len(runs(config, "--limit", "1")) == 1
    unknown = run_cli(config, "runs", "--source", "nowhere")
    assert unknown.exit_code != 0 and "no source named 'nowhere'" in unknown.output


def test_the_table_shows_a_hostile_error_as_text_and_csv_keeps_the_problems_apart(polled) -> None:
    _, config = polled
    table = run_cli(config, "runs", "--source", "shop").output
    assert "\x1b" not in table and "\\x1b" in table  # the escape is shown, never sent to the terminal
    rows = list(csv.DictReader(io.StringIO(run_cli(config, "runs", "--format", "csv", "--source", "shop").output)))
    assert rows[0]["error"].endswith(HOSTILE)
    assert json.loads(rows[1]["problems"]) == [{"where": "entry 3", "message": "rating missing", "raw": '{"id": 3}'}]


def _old_run(ctx, source: str, days: float, status: str = PollStatus.ok) -> None:
    with ctx.session() as session:
        source_id = session.exec(select(Source.id).where(Source.name == source)).one()
        started = datetime.now(timezone.utc) - timedelta(days=days)
        session.exec(insert(PollRun).values(source_id=source_id, kind=RunKind.poll, started_at=started,
                                            finished_at=started, status=status, problems=[]))


def _ages(ctx, source: str) -> list[int]:
    now = datetime.now(timezone.utc)
    with ctx.session() as session:
        return sorted((now - run.started_at).days for run in session.exec(
            select(PollRun).join(Source, Source.id == PollRun.source_id).where(Source.name == source)))


def test_a_sources_runs_older_than_keep_runs_go_at_its_next_poll(make_context, fake_type) -> None:
    FakeSource("shop").page(review("a"), cursor={"n": 1})
    FakeSource("cafe").page(review("c"), cursor={"n": 1})
    sources = [{"name": "shop", "type": "fake", "script": "shop"}, {"name": "cafe", "type": "fake", "script": "cafe"}]
    ctx = make_context(sources, extra='\n[poll]\nkeep_runs = "30d"\n')
    asyncio.run(poll_module.poll(ctx))
    for name in ("shop", "cafe"):
        _old_run(ctx, name, days=31)
        _old_run(ctx, name, days=29)
    asyncio.run(poll_module.poll(ctx, names=["shop"], due_only=False))
    assert _ages(ctx, "shop") == [0, 0, 29]  # the 31-day-old run went; the two polls and the 29-day-old one stay
    assert _ages(ctx, "cafe") == [0, 29, 31]  # not polled: left as it was


def test_keep_runs_below_a_day_is_refused(tmp_path, database_url) -> None:
    from service import config as config_module
    from service.errors import ConfigError
    from tests.conftest import write_config

    path = write_config(tmp_path, database_url, [], extra='\n[poll]\nkeep_runs = "1h"\n')
    with pytest.raises(ConfigError, match="keep_runs"):
        config_module.load(path)


@pytest.mark.anyio
async def test_the_runs_page_lists_them_escaped_and_filtered(polled) -> None:
    ctx, _ = polled
    users.add_user(ctx, "mia", "marketer", "correct horse battery staple")
    async with logged_in(ctx, "mia", "correct horse battery staple") as (client, _):
        sources = await client.get("/sources")
        assert 'href="/sources/runs?source=shop"' in sources.text
        page = await client.get("/sources/runs")
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "entry 3: rating missing" in page.text
        assert page.text.count("<tr>") - 1 == 3  # three runs under the header row
        failed = await client.get("/sources/runs", params={"failed": "true"})
        assert failed.text.count("<tr>") - 1 == 1
        cafe = await client.get("/sources/runs", params={"source": "cafe", "kind": "poll"})
        assert cafe.text.count("<tr>") - 1 == 1 and "rating missing" not in cafe.text
        none = await client.get("/sources/runs", params={"kind": "backfill"})
        assert "No runs on record that match." in none.text
        bogus = await client.get("/sources/runs", params={"kind": "<b>rerun</b>"})
        assert bogus.status_code == 400 and "no run kind &#39;&lt;b&gt;rerun&lt;/b&gt;&#39;; known: poll, backfill" in bogus.text
