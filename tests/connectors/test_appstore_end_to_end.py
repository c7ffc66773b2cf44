"""The App Store connector through `reviewmon poll`, against a feed on a local server."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from service.models import Review

from tests.appstore_feed import APP_ID, entry, feed, page_path
from tests.conftest import run_cli, write_config
from tests.feedserver import FeedServer


def test_polls_every_page_from_a_local_server_and_stops_early_next_time(tmp_path: Path, database_url: str) -> None:
    with FeedServer() as server:
        for number in range(1, 4):
            server.serve_json(page_path(number), feed([entry(i, rating=1 + i % 5) for i in range((number - 1) * 50, number * 50)]))
        server.serve_json(page_path(4), feed(None))
        config = write_config(tmp_path, database_url, [
            {"name": "app-us", "type": "appstore", "app_id": APP_ID, "country": "us", "base_url": server.base_url},
        ])
        assert run_cli(config, "migrate").exit_code == 0
        first = run_cli(config, "poll", "--verbose")
        assert first.exit_code == 0, first.output
        assert "app-us: ok, 150 read, 150 new" in first.output
        assert [server.hits[page_path(n)] for n in range(1, 5)] == [1, 1, 1, 1]

        # One new review arrives at the top of page 1.
        server.serve_json(page_path(1), feed([entry(-1, rating=1, text="Crashes on launch.")] + [entry(i) for i in range(49)]))
        second = run_cli(config, "poll", "--all", "--verbose")
        assert second.exit_code == 0, second.output
        assert "1 new" in second.output
        assert [server.hits[page_path(n)] for n in range(1, 5)] == [2, 1, 1, 1]  # stopped after page 1

    listed = run_cli(config, "reviews", "list", "--format", "json", "--source", "app-us")
    assert listed.output.count('"external_id"') == 151


def test_a_review_without_a_time_is_stored_with_the_time_first_seen(tmp_path: Path, database_url: str) -> None:
    undated = entry(1, rating=1, text="Crashes on launch.")
    del undated["updated"]
    with FeedServer() as server:
        server.serve_json(page_path(1), feed([entry(0), undated]))
        server.serve_json(page_path(2), feed(None))
        config = write_config(tmp_path, database_url, [
            {"name": "app-us", "type": "appstore", "app_id": APP_ID, "country": "us", "base_url": server.base_url},
        ])
        assert run_cli(config, "migrate").exit_code == 0
        before = datetime.now(timezone.utc)
        first = run_cli(config, "poll", "--verbose")
        after = datetime.now(timezone.utc)
        assert first.exit_code == 0, first.output
        assert "app-us: ok, 2 read, 2 new, 0 changed, 0 unchanged, 0 rejected" in first.output
        again = run_cli(config, "poll", "--all", "--verbose")
        assert "2 read, 0 new, 0 changed, 2 unchanged, 0 rejected" in again.output, again.output  # not re-dated each poll

    engine = sa.create_engine(database_url)
    try:
        with Session(engine) as session:
            stored = session.exec(select(Review).where(Review.external_id == "10000001")).one()
    finally:
        engine.dispose()
    assert stored.text == "Crashes on launch." and stored.created_at is None and stored.updated_at is None
    assert before <= stored.first_seen_at <= after and stored.written == stored.first_seen_at
