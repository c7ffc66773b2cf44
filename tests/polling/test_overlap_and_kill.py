"""The real `reviewmon poll` program under cron's worst habits: started twice at once,
and killed with SIGKILL at random moments. Nothing the platform served is lost, and
nothing is stored twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from service import config as config_module
from service import db
from service.context import Context
from service.models import Draft, PollRun, Review, Sentiment
from service.polling.poll import sync_sources
from tests.conftest import write_config, write_jsonl

REVIEWMON = str(Path(sys.executable).parent / "reviewmon")

TEXTS = [
    "Lovely food and friendly staff, we will be back.",
    "Waited an hour, the food was cold and the waiter was rude.",
    "It was fine.",
    "Terrible service, never again.",
    "Great value and a cosy room.",
]


def rows(prefix: str, n: int) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": TEXTS[i % len(TEXTS)] + f" ({i})", "rating": 1 + i % 5} for i in range(n)]


def open_ctx(config: Path) -> Context:
    return Context.open(config_module.load(config))


def totals(config: Path) -> dict[str, int]:
    ctx = open_ctx(config)
    try:
        with ctx.session() as session:
            return {
                "reviews": session.exec(select(func.count()).select_from(Review)).one(),
                "distinct": session.exec(select(func.count(func.distinct(Review.external_id)))).one(),
                "sentiments": session.exec(select(func.count()).select_from(Sentiment)).one(),
                "negative": session.exec(select(func.count()).select_from(Sentiment).where(Sentiment.negative)).one(),
                "drafts": session.exec(select(func.count()).select_from(Draft)).one(),
                "drafted reviews": session.exec(select(func.count(func.distinct(Draft.review_id)))).one(),
                "runs": session.exec(select(func.count()).select_from(PollRun)).one(),
            }
    finally:
        ctx.close()


def cli(config: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "REVIEWMON_CONFIG": str(config)}
    return subprocess.Popen([REVIEWMON, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def migrate(config: Path) -> None:
    ctx = Context.open(config_module.load(config), check_schema=False)
    db.migrate(ctx.engine)
    ctx.close()


def test_two_cron_polls_started_together_on_sqlite_both_succeed_and_store_each_review_once(tmp_path: Path) -> None:
    sources = []
    for name in ("north", "south", "east", "west"):
        write_jsonl(tmp_path / f"{name}.jsonl", rows(name, 600))
        sources.append({"name": name, "type": "file", "path": f"{name}.jsonl", "page_size": 100})
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'reviewmon.db'}", sources)
    migrate(config)
    first, second = cli(config, "poll"), cli(config, "poll")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outputs
    assert all(out == "" for out, _ in outputs)  # quiet on success, unattended
    counts = totals(config)
    assert counts["reviews"] == counts["distinct"] == counts["sentiments"] == 2400
    assert counts["drafts"] == counts["drafted reviews"] == counts["negative"]
    assert counts["runs"] == 4  # each source polled by exactly one of the two


def test_a_poll_over_several_processes_polls_each_source_once_beside_another_cron_poll(tmp_path: Path) -> None:
    names = [f"shop-{n}" for n in range(8)]
    for name in names:
        write_jsonl(tmp_path / f"{name}.jsonl", rows(name, 150))
    sources = [{"name": name, "type": "file", "path": f"{name}.jsonl", "page_size": 50} for name in names]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'reviewmon.db'}", sources, extra="\n[poll]\nprocesses = 3\n")
    migrate(config)
    first, second = cli(config, "poll", "--all", "--verbose"), cli(config, "poll")
    (out, err), (quiet, _) = [p.communicate(timeout=120) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), err
    assert quiet == ""
    reported = [line.split(":")[0] for line in out.splitlines()]
    assert len(reported) == len(set(reported))  # the processes' results, each source once
    counts = totals(config)
    assert counts["reviews"] == counts["distinct"] == counts["sentiments"] == 8 * 150
    assert counts["drafts"] == counts["drafted reviews"] == counts["negative"]
    assert counts["runs"] == 8  # each source polled once, by one of the four processes


def test_poll_all_names_the_sources_another_process_is_polling_and_cron_poll_skips_them_quietly(tmp_path: Path) -> None:
    from service.polling import claims
    from tests.conftest import run_cli

    for name in ("north", "south"):
        write_jsonl(tmp_path / f"{name}.jsonl", rows(name, 5))
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'reviewmon.db'}",
                          [{"name": name, "type": "file", "path": f"{name}.jsonl"} for name in ("north", "south")])
    migrate(config)
    ctx = open_ctx(config)
    try:
        sync_sources(ctx)
        assert [c.name for c in claims.claim(ctx, "other-host:4242:cron", ["north"], due_only=False, limit=1)] == ["north"]
    finally:
        ctx.close()

    cron = run_cli(config, "poll")
    assert (cron.exit_code, cron.stdout, cron.stderr) == (0, "", "")  # overlapping cron polls are normal: quiet
    by_hand = run_cli(config, "poll", "--all", "--verbose")
    assert by_hand.exit_code == 0
    assert "north: skipped, another process is polling it (other-host:4242:cron)" in by_hand.stdout
    assert totals(config)["reviews"] == 5  # south's, polled by cron; north is left to its holder


@pytest.mark.parametrize(("kills", "processes"), [(4, 1), (3, 2)])
def test_sigkill_at_random_moments_never_loses_or_doubles_a_review(tmp_path: Path, database_url: str, kills: int, processes: int) -> None:
    write_jsonl(tmp_path / "big.jsonl", rows("big", 1500))
    write_jsonl(tmp_path / "small.jsonl", rows("small", 200))
    config = write_config(tmp_path, database_url, [
        {"name": "big", "type": "file", "path": "big.jsonl", "page_size": 50},
        {"name": "small", "type": "file", "path": "small.jsonl", "page_size": 50},
    ], extra=f"\n[poll]\nprocesses = {processes}\n")
    migrate(config)
    rng = random.Random(20261123)
    seen = []
    for _ in range(kills):
        before = totals(config)["reviews"]
        process = cli(config, "poll", "--all")
        deadline = time.monotonic() + 20
        while totals(config)["reviews"] == before and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until it is storing pages...
        time.sleep(rng.uniform(0.0, 0.5))  # ...then kill it at a random moment
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        counts = totals(config)
        assert counts["reviews"] == counts["distinct"] == counts["sentiments"]  # whole pages or nothing
        assert counts["drafts"] == counts["drafted reviews"]
        seen.append(counts["reviews"])
    assert any(0 < n < 1700 for n in seen), seen  # at least one kill landed in the middle of a poll
    final = cli(config, "poll", "--all")
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    counts = totals(config)
    assert counts["reviews"] == counts["distinct"] == counts["sentiments"] == 1700
    assert counts["drafts"] == counts["drafted reviews"] == counts["negative"]


def test_a_failed_poll_process_is_reported_after_what_the_others_polled(tmp_path: Path, monkeypatch) -> None:
    from service.polling import processes as poll_processes
    from tests.conftest import run_cli

    names = [f"shop-{n}" for n in range(4)]
    for name in names:
        write_jsonl(tmp_path / f"{name}.jsonl", rows(name, 5))
    sources = [{"name": name, "type": "file", "path": f"{name}.jsonl"} for name in names]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'reviewmon.db'}", sources, extra="\n[poll]\nprocesses = 2\n")
    migrate(config)
    parent, own_share = os.getpid(), poll_processes._own_share

    async def broken_in_the_helper(*args, **kwargs):
        if os.getpid() != parent:  # the forked helper
            raise RuntimeError("out of memory, say")
        return await own_share(*args, **kwargs)

    monkeypatch.setattr(poll_processes, "_own_share", broken_in_the_helper)
    result = run_cli(config, "poll", "--all", "--verbose")
    assert result.exit_code == 1
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == names  # the parent polled them all
    assert "a poll process (pid" in result.stderr and "RuntimeError: out of memory, say" in result.stderr
    assert totals(config)["reviews"] == 4 * 5
