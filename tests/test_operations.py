"""Operating reviewmon: the worker's scheduler, `serve` with the scheduler inside, /healthz
and /metrics as a monitoring system sees them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text, update
from sqlmodel import select

from connectors.errors import TransientError
from service import metrics
from service.models import PollRun, Source
from service.polling import poll as poll_module
from service.polling.worker import Worker
from service.web import create_app
from tests.conftest import write_config, write_jsonl

FAST = '\n[poll]\ntick = "1s"\n'


def sample_value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def sources(fake_type, names, *, fail: tuple[str, ...] = ()) -> list[dict]:
    for name in names:
        script = fake_type.FakeSource(name)
        script.fail(TransientError("502 from the platform")) if name in fail else script.page(fake_type.review(f"{name}-1", rating=1))
    return [{"name": n, "type": "fake", "script": n, "schedule": "1h"} for n in names]


def test_the_worker_polls_each_due_source_once_then_waits_for_the_next_due_time(make_context, fake_type) -> None:
    ctx = make_context(sources(fake_type, ["a", "b", "c"], fail=("c",)), extra=FAST)
    ok_before = sample_value("reviewmon_polls_total", outcome="ok")

    async def run() -> None:
        worker = Worker(ctx)
        await worker.start()
        await asyncio.sleep(3.5)  # three ticks
        await worker.stop()

    asyncio.run(run())
    with ctx.session() as session:
        runs = session.exec(select(Source.name, PollRun.status).join(PollRun)).all()
        rows = {s.name: s for s in session.exec(select(Source))}
    assert sorted(runs) == [("a", "ok"), ("b", "ok"), ("c", "failed")]  # once each, not once per tick
    assert all(row.lease_owner is None for row in rows.values())  # claims given back on stop
    assert rows["c"].failure_count == 1 and rows["c"].next_poll_at > rows["c"].last_polled_at
    assert sample_value("reviewmon_polls_total", outcome="ok") - ok_before == 2


async def serving(ctx, *, scheduler: bool, until) -> list[httpx.Response]:
    """Run the app as `reviewmon serve` does (lifespan and all); `until(client)` makes the requests."""
    app = create_app(ctx, scheduler=scheduler)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as client:
            return await until(client)


def test_serve_runs_the_scheduler_and_reports_health_and_metrics(make_context, fake_type) -> None:
    ctx = make_context(sources(fake_type, ["north", "south"], fail=("south",)), extra=FAST)

    async def when_both_polled(client: httpx.AsyncClient) -> list[httpx.Response]:
        for _ in range(50):
            with ctx.session() as session:
                if len(session.exec(select(PollRun.id).where(PollRun.status != "running")).all()) == 2:
                    break
            await asyncio.sleep(0.2)
        return [await client.get("/healthz"), await client.get("/metrics")]

    health, scraped = asyncio.run(serving(ctx, scheduler=True, until=when_both_polled))
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["scheduler"] == "running" and body["database"] == "ok"
    assert body["sources"]["ok"] == 1 and body["sources"]["failing"] == 1 and body["drafts_waiting"] == 1
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text_ = scraped.text
    assert 'reviewmon_reviews_stored{source="north"} 1.0' in text_
    assert "reviewmon_drafts_waiting 1.0" in text_
    assert 'reviewmon_polls_total{outcome="failed"}' in text_
    assert "reviewmon_poll_duration_seconds_count" in text_


def test_healthz_reports_overdue_sources_and_fails_on_a_database_it_cannot_use(make_context, fake_type) -> None:
    ctx = make_context(sources(fake_type, ["a"]))
    asyncio.run(poll_module.poll(ctx))

    async def checks(client: httpx.AsyncClient) -> list[httpx.Response]:
        fine = await client.get("/healthz")
        with ctx.session() as session:
            session.exec(update(Source).values(next_poll_at=ctx.clock() - timedelta(hours=2)))
        overdue = await client.get("/healthz")
        with ctx.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        return [fine, overdue, await client.get("/healthz")]

    fine, overdue, sick = asyncio.run(serving(ctx, scheduler=False, until=checks))
    assert fine.json()["status"] == "ok" and fine.json()["sources"]["overdue"] == 0
    assert overdue.json()["sources"]["overdue"] == 1 and "scheduler" not in overdue.json()  # none here: not judged
    assert sick.status_code == 503 and sick.json()["status"] == "down" and "reviewmon migrate" in sick.json()["database"]


def test_the_workers_metrics_answer_this_machine_only(tmp_path) -> None:
    """`reviewmon worker --metrics-port`: Prometheus reads it on 127.0.0.1; a page on
    another site whose name was rebound to 127.0.0.1 sends its own name as Host, and is
    refused, as the web app's /metrics refuses it."""
    write_jsonl(tmp_path / "r.jsonl", [{"id": "1", "text": "Cold soup, rude waiter.", "rating": 1}])
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", [{"name": "f", "type": "file", "path": "r.jsonl"}])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reviewmon = str(Path(sys.executable).parent / "reviewmon")
    env = {**os.environ, "REVIEWMON_CONFIG": str(config)}
    assert subprocess.run([reviewmon, "migrate"], env=env, capture_output=True).returncode == 0
    worker = subprocess.Popen([reviewmon, "worker", "--metrics-port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url, deadline, answer = f"http://127.0.0.1:{port}/metrics", time.monotonic() + 20, None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(url, timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200 and "reviewmon_sources" in answer.text
        assert httpx.get(url, headers={"Host": f"localhost:{port}"}).status_code == 200
        rebound = httpx.get(url, headers={"Host": f"attacker.example:{port}"})
        assert rebound.status_code == 421 and "reviewmon" not in rebound.text
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "GET /metrics" not in err  # scrapes are not logged line by line
