"""The simulated review platform (tests/platform_sim.py): the appstore connector reads it
as it reads the real feed, and latency, failures, new reviews and the statistics behave
as configured."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
from sqlalchemy import func
from sqlmodel import select

from service.models import Review, Source
from service.polling import poll as poll_module
from tests.paths import ROOT
from tests.platform_sim import PlatformSim, overlapping_requests, parse_feed_path, read_stats


def poll(ctx, *names):
    return {r.name: r for r in asyncio.run(poll_module.poll(ctx, list(names) or None))}


def stored(ctx) -> dict[str, int]:
    with ctx.session() as session:
        rows = session.exec(select(Source.name, func.count(Review.id)).join(Review).group_by(Source.name)).all()
    return dict(rows)


async def get_all(urls: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=None)) as client:
        return await asyncio.gather(*(client.get(u) for u in urls))


def test_the_appstore_connector_reads_every_page_of_every_app(make_context) -> None:
    with PlatformSim(3, pages=[3, 1, 0], per_page=4, seed=5) as sim:
        ctx = make_context(sim.sources())
        results = poll(ctx)
        assert all(r.ok for r in results.values()), {n: r.error for n, r in results.items()}
        assert {n: r.counts.inserted for n, r in results.items()} == {"app-0": 12, "app-1": 4, "app-2": 0}
        assert stored(ctx) == {"app-0": 12, "app-1": 4} and sim.served() == 16
        stats = sim.stats()
        # Every page once, then the empty page that ends the feed; an app without reviews
        # gets its empty page 1 asked twice (the connector does not trust one empty answer).
        assert [stats["apps"][a]["pages"] for a in sim.app_ids] == [
            {"1": 1, "2": 1, "3": 1, "4": 1}, {"1": 1, "2": 1}, {"1": 2}]
        assert [stats["apps"][a]["hits"] for a in sim.app_ids] == [sim.requests_per_poll(a) for a in sim.app_ids]
        assert [stats["apps"][a]["polls"] for a in sim.app_ids] == [1, 1, 0]
        assert stats["overlapping"] == [] and sim.overlaps() == {}

        # Texts, ratings and ids came through as served.
        served = {e["id"]["label"]: e for e in sim.reviews(sim.app_ids[0])}
        with ctx.session() as session:
            rows = session.exec(select(Review).join(Source).where(Source.name == "app-0")).all()
        assert {r.external_id for r in rows} == set(served)
        for row in rows:
            assert row.text == served[row.external_id]["content"]["label"]
            assert row.rating == int(served[row.external_id]["im:rating"]["label"])


def test_new_reviews_arrive_on_top_and_the_next_poll_reads_only_page_one(make_context) -> None:
    with PlatformSim(2, pages=3, per_page=5, seed=2) as sim:
        ctx = make_context(sim.sources())
        poll(ctx)
        added = sim.add_reviews(sim.app_ids[0], 3)
        assert [e["id"]["label"] for e in sim.reviews(sim.app_ids[0])[:3]] == added[::-1]  # newest first
        again = poll(ctx, "app-0")
        assert again["app-0"].ok and again["app-0"].counts.inserted == 3
        apps = sim.stats()["apps"]
        assert apps[sim.app_ids[0]]["pages"] == {"1": 2, "2": 1, "3": 1, "4": 1}  # stopped after page 1
        assert apps[sim.app_ids[0]]["polls"] == 2 and len(apps[sim.app_ids[0]]["runs"]) == 2
        assert stored(ctx) == {"app-0": 18, "app-1": 15}


def test_always_failing_apps_and_malformed_bodies_fail_their_source_only(make_context) -> None:
    with PlatformSim(4, pages=2, per_page=3, failing_apps={1}, fail_with=503, failure_rate={2: 1.0},
                     failures=["malformed"]) as sim:
        ctx = make_context(sim.sources())
        results = poll(ctx)
        assert {n: r.ok for n, r in results.items()} == {"app-0": True, "app-1": False, "app-2": False, "app-3": True}
        assert "503" in results["app-1"].error and "JSON" in results["app-2"].error
        apps = sim.stats()["apps"]
        assert set(apps[sim.app_ids[1]]["statuses"]) == {"503"} and apps[sim.app_ids[1]]["hits"] > 1  # retried
        assert apps[sim.app_ids[2]]["hits"] == 1  # a malformed body is not retried
        assert stored(ctx) == {"app-0": 6, "app-3": 6}


def test_latency_is_waited_without_blocking_and_recorded() -> None:
    with PlatformSim(40, pages=1, per_page=2, latency=0.3) as sim:
        started = time.monotonic()
        responses = asyncio.run(get_all([sim.apps[a].page_url(1) for a in sim.app_ids]))
        elapsed = time.monotonic() - started
        assert all(r.status_code == 200 for r in responses)
        assert elapsed < 1.5, f"40 requests of 0.3 s took {elapsed:.2f} s: the server is not serving them concurrently"
        stats = sim.stats()
        assert stats["max_in_flight"] > 10
        durations = [end - start for a in stats["apps"].values() for start, end, *_ in a["requests"]]
        assert len(durations) == 40 and min(durations) >= 0.29


def test_random_latency_stays_in_range_and_follows_the_seed() -> None:
    with PlatformSim(2, pages=1, latency=(0.05, 0.15), seed=9) as sim, PlatformSim(2, pages=1, latency=(0.05, 0.15), seed=9) as twin:
        delays = [sim.delay(sim.app_ids[0], 1, hit) for hit in range(50)]
        assert all(0.05 <= d <= 0.15 for d in delays) and len(set(delays)) > 40
        assert delays == [twin.delay(twin.app_ids[0], 1, hit) for hit in range(50)]
        asyncio.run(get_all([sim.apps[sim.app_ids[0]].page_url(1)] * 5))
        requests = sim.stats()["apps"][sim.app_ids[0]]["requests"]
        assert all(end - start >= 0.049 for start, end, *_ in requests)


def test_failures_follow_their_rate_kinds_and_seed() -> None:
    kwargs = {"pages": 1, "failure_rate": 0.4, "seed": 3, "retry_after": 7}
    with PlatformSim(4, **kwargs) as sim:
        urls = [sim.apps[a].page_url(1) for a in sim.app_ids] * 50
        responses = asyncio.run(get_all(urls))
    malformed = 0
    for r in responses:
        if r.status_code == 200:
            try:
                json.loads(r.content)
            except json.JSONDecodeError:
                malformed += 1
    statuses = [r.status_code for r in responses]
    failed = sum(s != 200 for s in statuses) + malformed
    assert 0.3 < failed / len(responses) < 0.5
    assert {500, 503, 429} <= set(statuses) and malformed > 0
    assert all(r.headers["retry-after"] == "7" for r in responses if r.status_code == 429)
    # Fates depend on the seed and on which request of a path it is, not on arrival order.
    with PlatformSim(4, **kwargs) as twin:
        assert [sim.fate(a, 1, hit) for a in sim.app_ids for hit in range(50)] == \
               [twin.fate(a, 1, hit) for a in twin.app_ids for hit in range(50)]


def test_two_requests_of_one_app_at_once_are_reported_as_overlapping() -> None:
    with PlatformSim(2, pages=2, latency=0.2) as sim:
        first, second = sim.app_ids
        asyncio.run(get_all([sim.apps[first].page_url(1), sim.apps[first].page_url(2)]))
        for n in (1, 2):
            httpx.get(sim.apps[second].page_url(n))
        stats = read_stats(sim.base_url)
        assert stats["overlapping"] == [first]
        assert stats["apps"][first]["max_in_flight"] == 2 and stats["apps"][second]["max_in_flight"] == 1
        assert list(sim.overlaps()) == [first]
    assert overlapping_requests([[0, 1], [1, 2], [2.5, 3]]) == []
    assert overlapping_requests([[0, 1], [0.5, 2], [1.5, 3]]) == [([0, 1], [0.5, 2]), ([0.5, 2], [1.5, 3])]


def test_another_process_reads_stats_adds_reviews_and_resets() -> None:
    with PlatformSim(2, pages=1, per_page=2) as sim:
        httpx.get(sim.apps[sim.app_ids[0]].page_url(1))
        script = (
            "import httpx, json, sys; from tests.platform_sim import read_stats\n"
            "url, app = sys.argv[1:]\n"
            "before = read_stats(url, requests=False)\n"
            "added = httpx.post(f'{url}/_apps/{app}/reviews', params={'count': 2}).json()['added']\n"
            "apps = httpx.get(f'{url}/_apps').json()\n"
            "httpx.post(f'{url}/_reset')\n"
            "print(json.dumps([before['requests'], 'requests' in before['apps'][app], len(added), apps['served'], read_stats(url)['requests']]))\n"
        )
        done = subprocess.run([sys.executable, "-c", script, sim.base_url, sim.app_ids[0]],
                              capture_output=True, text=True, cwd=ROOT, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [1, False, 2, 6, 0]
        assert len(sim.reviews(sim.app_ids[0])) == 4


def test_paths_it_answers_like_the_real_feed() -> None:
    with PlatformSim(2, pages=[1, 0], per_page=1, country="gb") as sim:
        app = sim.apps[sim.app_ids[0]]
        one = httpx.get(app.page_url(1))
        assert one.headers["content-type"].startswith("text/javascript")
        assert isinstance(one.json()["feed"]["entry"], dict)  # a single review is an object
        assert "entry" not in httpx.get(app.page_url(2)).json()["feed"]  # past the end: no entries
        assert httpx.get(app.page_url(11)).status_code == 400
        assert httpx.get(app.page_url(1).replace("/gb/", "/us/")).status_code == 404  # not in that storefront
        assert httpx.get(f"{sim.base_url}/gb/rss/customerreviews/page=1/id=42/sortby=mostrecent/json").status_code == 404
    assert parse_feed_path("/us/rss/customerreviews/id=123/sortBy=mostRecent/page=3/json") == ("us", "123", 3)
    assert parse_feed_path("/us/rss/topfreeapplications/limit=10/json") is None


def test_apps_spread_over_several_loopback_hosts() -> None:
    with PlatformSim(6, pages=1, hosts=3) as sim:
        assert {httpx.URL(s["base_url"]).host for s in sim.sources()} == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
        assert all(httpx.get(sim.apps[a].page_url(1)).status_code == 200 for a in sim.app_ids)
