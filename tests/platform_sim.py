"""A simulated review platform: the App Store customer-reviews feed of many apps, served
from a real socket on 127.0.0.1, for load tests and benchmarks (issue 5).

One app is one reviewmon source of type `appstore` with `base_url` pointed here. It
serves the paths the connector asks for (connectors/appstore.py: `page_url`):

    /{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json

in the shape of shared/platform-apis.md section 2a: labels everywhere, ratings as
strings, `entry` a single object when a page holds one review, pages past the last one
answered with a feed that has no `entry` (so the connector reads every page, then one
empty page, and stops), page > 10 a 400, an unknown app or storefront a 404.

An asyncio server (uvicorn on a tiny ASGI app) in a background thread: a request waits
its latency with `asyncio.sleep`, so hundreds of slow requests in flight cost next to no
CPU. Content, latencies and injected failures come from `seed`, request by request (the
n-th request of a path always gets the same delay and the same fate), so a run compares
with the next whatever order the requests arrive in.

    with PlatformSim(apps=3, pages=4, per_page=5, latency=0.2, seed=1) as sim:
        config = write_config(tmp_path, url, sim.sources())   # [[sources]] app-0, app-1, app-2
        ...poll...
        sim.add_reviews(sim.app_ids[0], 3)                    # three new reviews on top of app-0
        stats = sim.stats()                                    # or GET {sim.base_url}/_stats

Another process reads the same statistics from `GET /_stats` (see `read_stats`), adds
reviews with `POST /_apps/{app_id}/reviews?count=k` and clears the counters with
`POST /_reset`. `python -m tests.platform_sim --apps 50 ...` serves until interrupted.

`stats()` (and /_stats) returns:

    {"now": wall time, "requests": total, "in_flight": n, "max_in_flight": n,
     "statuses": {"200": n, "503": n, ...},
     "paths": {path: hits},
     "apps": {app_id: {"hits": n, "polls": n, "pages": {"1": n, ...}, "statuses": {...},
                       "max_in_flight": n, "reviews": n served now,
                       "requests": [[start, end, page, status, entries], ...],   # wall-clock seconds
                       "runs": [[start, end, requests], ...]}},
     "overlapping": [app_id, ...]}       # apps that ever had two requests in flight at once

A "poll" of an app is a successful (200, non-empty) answer to its page 1; its "run" is
that request and every later one of the app up to the next such page 1, retries included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Self
from urllib.parse import parse_qs

import uvicorn

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=-7)))
MAX_PAGES = 10  # the feed's own limit: a page past it is an error
FAILURES = ("500", "503", "429", "malformed")
CONTENT_TYPE = b"text/javascript; charset=utf-8"  # what the real feed sends

# Review texts: app-store flavoured, several moods, lengths from three words to a long rant.
PRAISE = ["works perfectly on my phone", "the new update is great", "syncing is fast now", "love the dark mode",
          "support answered within a day", "finally an app that does one thing well", "the widgets are handy",
          "booking a table takes seconds", "the offline mode saved my trip", "clean design and no clutter"]
GRIPES = ["it crashes on launch since the last update", "I was charged twice for the subscription",
          "the login keeps failing", "notifications never arrive", "it drains my battery", "too many ads now",
          "my saved data disappeared", "support never replied to my emails", "it freezes on the payment screen",
          "the sync loses my changes", "every update makes it slower", "the font is unreadable on a tablet"]
ASIDES = ["on an older iPad", "after the latest iOS update", "most days", "when the network is slow",
          "since last week", "with two accounts", "on a long train ride", "for a family of four"]
CLOSERS_GOOD = ["Five stars.", "Keep it up!", "Would recommend.", "Thanks to the team 🙏", "Merci !"]
CLOSERS_BAD = ["Please fix this.", "Uninstalled.", "Not worth the money.", "Very disappointed.", "Meh."]
TITLES_GOOD = ["Great app", "Love it", "Does the job", "Brilliant", "Très bien", "Solid", "Useful"]
TITLES_BAD = ["Crashes", "Broken after update", "Refund please", "Terrible", "Used to be good", "Unusable"]
NAMES = ["sam_k", "Ana P.", "Aoife", "liam1987", "jenny🌸", "Marco", "Zoë", "Priya", "T. Nguyen", "nick_o", "Ørjan"]


def review_text(rng: random.Random, rating: int) -> str:
    """A review of whole sentences, 3 to ~160 words, mostly short, a few long; its mood
    follows the rating."""
    wanted = min(150, max(3, int(rng.expovariate(1 / 28))))
    pool = PRAISE if rating >= 4 else GRIPES if rating <= 2 else PRAISE + GRIPES
    closers = CLOSERS_GOOD if rating >= 4 else CLOSERS_BAD if rating <= 2 else CLOSERS_GOOD + CLOSERS_BAD
    sentences = []
    while sum(len(s.split()) for s in sentences) < wanted:
        clause = rng.choice(pool)
        if rng.random() < 0.35:
            clause += " " + rng.choice(ASIDES)
        sentences.append(clause[0].upper() + clause[1:] + rng.choice([".", ".", "!", "..."]))
    return " ".join(sentences) + (" " + rng.choice(closers) if rng.random() < 0.6 else "")


@dataclass
class App:
    index: int
    app_id: str
    country: str
    base_url: str
    per_page: int
    failure_rate: float
    always_fail: bool
    rng: random.Random
    entries: list[dict[str, Any]] = field(default_factory=list)  # newest first
    next_number: int = 0
    newest: datetime = T0
    oldest: datetime = T0
    rendered: dict[int, bytes] = field(default_factory=dict)

    def make_entry(self, updated: datetime) -> dict[str, Any]:
        rng = self.rng
        rating = rng.choices([1, 2, 3, 4, 5], weights=[14, 7, 9, 20, 50])[0]
        review_id = str(10_000_000_000 + self.index * 1_000_000 + self.next_number)
        self.next_number += 1
        author = rng.choice(NAMES)
        return {
            "author": {"uri": {"label": f"https://itunes.apple.com/{self.country}/reviews/id{rng.randint(10**8, 10**9)}"},
                       "name": {"label": author}, "label": ""},
            "updated": {"label": updated.isoformat()},
            "im:rating": {"label": str(rating)},
            "im:version": {"label": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"},
            "id": {"label": review_id},
            "title": {"label": rng.choice(TITLES_GOOD if rating >= 3 else TITLES_BAD)},
            "content": {"label": review_text(rng, rating), "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/{self.country}/review?id={self.app_id}&type=Purple%20Software"}},
            "im:voteSum": {"label": str(rng.randint(0, 3))},
            "im:voteCount": {"label": str(rng.randint(0, 5))},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        }

    def fill(self, count: int) -> None:
        """The initial listing: `count` reviews going back in time from T0."""
        when = T0
        for _ in range(count):
            self.entries.append(self.make_entry(when))
            self.oldest = when
            when -= timedelta(minutes=self.rng.randint(5, 600))

    def add(self, count: int) -> list[str]:
        """`count` new reviews on top (newest first), each a few minutes after the last."""
        new = []
        for _ in range(count):
            self.newest += timedelta(minutes=self.rng.randint(1, 30))
            new.append(self.make_entry(self.newest))
        self.entries[:0] = reversed(new)
        self.rendered.clear()
        return [e["id"]["label"] for e in new]

    def page_url(self, number: int) -> str:
        return f"{self.base_url}/{self.country}/rss/customerreviews/page={number}/id={self.app_id}/sortby=mostrecent/json"

    def page(self, number: int) -> tuple[bytes, int]:
        """The page's JSON body and how many reviews it holds."""
        chunk = self.entries[(number - 1) * self.per_page: number * self.per_page]
        if number not in self.rendered:
            feed: dict[str, Any] = {
                "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
                "updated": {"label": (self.newest + timedelta(hours=1)).isoformat()},
                "rights": {"label": "Copyright 2008 Apple Inc."},
                "title": {"label": "iTunes Store: Customer Reviews"},
                "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                "link": [{"attributes": {"rel": "alternate", "type": "text/html", "href": f"https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc={self.country}&id=38"}},
                         {"attributes": {"rel": "self", "href": self.page_url(number)}},
                         {"attributes": {"rel": "first", "href": self.page_url(1)}},
                         {"attributes": {"rel": "last", "href": self.page_url(MAX_PAGES)}},
                         {"attributes": {"rel": "previous", "href": self.page_url(max(1, number - 1))}},
                         {"attributes": {"rel": "next", "href": self.page_url(min(MAX_PAGES, number + 1))}}],
                "id": {"label": self.page_url(number)},
            }
            if chunk:  # one review comes as an object, not a list; none: no `entry` at all
                feed["entry"] = chunk[0] if len(chunk) == 1 else chunk
            self.rendered[number] = json.dumps({"feed": feed}, ensure_ascii=False).encode("utf-8")
        return self.rendered[number], len(chunk)


class PlatformSim:
    """The simulated platform. Start it with `with` (or start()/stop()).

    apps          how many apps (sources); ids are 9-digit numbers, app i is source "app-i"
    pages         pages of reviews per app: one number, or one per app (a sequence); 0 = no reviews
    per_page      reviews per page (the real feed has 50)
    latency       seconds each request waits before its answer: a number, or (low, high) for a
                  uniform draw per request
    seed          content, latencies and failures all follow from it
    failure_rate  chance that a request fails: a number for every app, or {app index: rate}
    failures      what a failed request gets, drawn evenly: "500", "503", "429" (with
                  Retry-After: `retry_after`) or "malformed" (200 with a truncated JSON body)
    failing_apps  app indexes whose every request is answered with `fail_with` (a status)
    country       the storefront the apps live in; other storefronts answer 404
    hosts         listen on 127.0.0.1 .. 127.0.0.{hosts}, app i on host i % hosts: several
                  "platform hosts", for clients that limit requests per host
    """

    def __init__(
        self, apps: int = 3, *, pages: int | Sequence[int] = 2, per_page: int = 5,
        latency: float | tuple[float, float] = 0.0, seed: int = 1,
        failure_rate: float | Mapping[int, float] = 0.0, failures: Iterable[str] = FAILURES,
        failing_apps: Iterable[int] = (), fail_with: int = 500, retry_after: int = 1,
        country: str = "us", hosts: int = 1,
    ):
        self.seed = seed
        self.latency = latency
        self.failures = tuple(failures)
        unknown = set(self.failures) - set(FAILURES)
        if unknown or not self.failures:
            raise ValueError(f"failures must be some of {FAILURES}, not {sorted(unknown) or 'none'}")
        self.fail_with = fail_with
        self.retry_after = retry_after
        self.country = country
        pages_each = [pages] * apps if isinstance(pages, int) else list(pages)
        if len(pages_each) != apps:
            raise ValueError(f"pages: {len(pages_each)} numbers for {apps} apps")
        failing = set(failing_apps)
        self._lock = threading.Lock()
        self._sockets = [self._bind(f"127.0.0.{h + 1}") for h in range(hosts)]
        self.base_urls = ["http://{}:{}".format(*s.getsockname()[:2]) for s in self._sockets]
        self.apps: dict[str, App] = {}
        for i in range(apps):
            rate = failure_rate.get(i, 0.0) if isinstance(failure_rate, Mapping) else failure_rate
            app = App(i, str(100_000_000 + i * 7919), country, self.base_urls[i % hosts], per_page, rate, i in failing,
                      random.Random(f"{seed}:content:{i}"))
            app.fill(pages_each[i] * per_page)
            self.apps[app.app_id] = app
        self.app_ids = list(self.apps)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_stats()

    # -- what tests and benchmarks use --------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def source(self, index: int, **extra: Any) -> dict[str, Any]:
        """The [[sources]] table of app `index` (for tests.conftest.write_config)."""
        app = self.apps[self.app_ids[index]]
        return {"name": f"app-{index}", "type": "appstore", "app_id": app.app_id, "country": app.country,
                "base_url": app.base_url, **extra}

    def sources(self, **extra: Any) -> list[dict[str, Any]]:
        return [self.source(i, **extra) for i in range(len(self.app_ids))]

    def reviews(self, app_id: str) -> list[dict[str, Any]]:
        """The app's feed entries as served now, newest first."""
        with self._lock:
            return list(self.apps[app_id].entries)

    def served(self) -> int:
        """Reviews the feeds list now, over all apps (at most 10 pages each): what a first
        poll of every app should store."""
        with self._lock:
            return sum(min(len(a.entries), MAX_PAGES * a.per_page) for a in self.apps.values())

    def requests_per_poll(self, app_id: str) -> int:
        """Requests a first poll of the app makes when nothing fails: every page, then the
        empty one that ends the feed (unless the last page is the tenth); 2 for an app
        without reviews (the connector asks for an empty page 1 twice)."""
        with self._lock:
            pages = math.ceil(len(self.apps[app_id].entries) / self.apps[app_id].per_page)
        return 2 if pages == 0 else min(pages + 1, MAX_PAGES)

    def add_reviews(self, app_id: str, count: int) -> list[str]:
        """New reviews arrive: `count` of them on top of the app's feed; returns their ids."""
        with self._lock:
            return self.apps[app_id].add(count)

    def delay(self, app_id: str, page: int, hit: int) -> float:
        """The latency of the `hit`-th request (0-based) for this app's page."""
        if isinstance(self.latency, tuple):
            low, high = self.latency
            return random.Random(f"{self.seed}:latency:{app_id}:{page}:{hit}").uniform(low, high)
        return float(self.latency)

    def fate(self, app_id: str, page: int, hit: int) -> str | None:
        """None (served) or the failure the `hit`-th request for this app's page gets."""
        app = self.apps[app_id]
        if app.always_fail:
            return str(self.fail_with)
        if app.failure_rate <= 0:
            return None
        rng = random.Random(f"{self.seed}:fail:{app_id}:{page}:{hit}")
        return rng.choice(self.failures) if rng.random() < app.failure_rate else None

    def reset_stats(self) -> None:
        with self._lock:
            self._log: dict[str, list[list[Any]]] = {a: [] for a in self.apps}
            self._paths: Counter[str] = Counter()
            self._path_hits: Counter[tuple[str, int]] = Counter()
            self._statuses: Counter[str] = Counter()
            self._in_flight: Counter[str] = Counter()
            self._app_max: Counter[str] = Counter()
            self._overlapping: set[str] = set()
            self._total_in_flight = self._max_in_flight = self._requests = 0

    def stats(self, *, requests: bool = True) -> dict[str, Any]:
        """Counters and per-request times (see the module docstring); requests=False leaves
        out the per-request lists and runs."""
        with self._lock:
            apps = {}
            for app_id, log in self._log.items():
                done = sorted((r for r in log if r[1] is not None), key=lambda r: r[0])
                item: dict[str, Any] = {
                    "hits": len(log),
                    "polls": sum(1 for r in done if r[2] == 1 and r[3] == 200 and r[4]),
                    "pages": dict(sorted(Counter(str(r[2]) for r in log).items(), key=lambda kv: int(kv[0]))),
                    "statuses": dict(Counter(str(r[3]) for r in done)),
                    "max_in_flight": self._app_max[app_id],
                    "reviews": len(self.apps[app_id].entries),
                }
                if requests:
                    item["requests"] = [list(r) for r in log]
                    item["runs"] = runs(done)
                apps[app_id] = item
            return {
                "now": time.time(), "requests": self._requests, "in_flight": self._total_in_flight,
                "max_in_flight": self._max_in_flight, "statuses": dict(self._statuses), "paths": dict(self._paths),
                "apps": apps, "overlapping": sorted(self._overlapping),
            }

    def overlaps(self) -> dict[str, list[tuple[list[Any], list[Any]]]]:
        """Pairs of requests of one app that were in flight at the same time, by app."""
        with self._lock:
            logs = {a: [r for r in log if r[1] is not None] for a, log in self._log.items()}
        return {a: pairs for a, log in logs.items() if (pairs := overlapping_requests(log))}

    # -- the server ----------------------------------------------------------------------

    @staticmethod
    def _bind(host: str) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        sock.set_inheritable(True)
        return sock

    def start(self) -> Self:
        config = uvicorn.Config(
            self._asgi, interface="asgi3", log_config=None, log_level="warning", access_log=False, lifespan="off", proxy_headers=False,
            backlog=4096, timeout_keep_alive=60, timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": self._sockets},
                                        name="platform-sim", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulated platform did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path.startswith("/_"):
            await self._control(method, path, parse_qs(scope.get("query_string", b"").decode()), send)
            return
        where = parse_feed_path(path)
        app = self.apps.get(where[1]) if where else None
        if where is None or app is None or where[0] != app.country:
            await respond(send, 404, b'{"error": "not found"}')  # unknown app, or not in this storefront
            return
        _, app_id, page = where
        with self._lock:
            hit = self._path_hits[(app_id, page)]
            self._path_hits[(app_id, page)] += 1
            self._paths[path] += 1
            self._requests += 1
            record = [time.time(), None, page, None, 0]
            self._log[app_id].append(record)
            self._in_flight[app_id] += 1
            self._total_in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._total_in_flight)
            self._app_max[app_id] = max(self._app_max[app_id], self._in_flight[app_id])
            if self._in_flight[app_id] > 1:
                self._overlapping.add(app_id)
        status = 500

        def finish() -> None:
            with self._lock:
                if record[1] is not None:
                    return
                record[1], record[3] = time.time(), status
                self._statuses[str(status)] += 1
                self._in_flight[app_id] -= 1
                self._total_in_flight -= 1

        try:
            delay = self.delay(app_id, page, hit)
            if delay > 0:
                await asyncio.sleep(delay)
            fate = self.fate(app_id, page, hit)
            headers: list[tuple[bytes, bytes]] = []
            if not 1 <= page <= MAX_PAGES:
                status, body = 400, b'{"error": "page out of range"}'
            elif fate is None or fate == "malformed":
                with self._lock:
                    body, record[4] = app.page(page)
                status = 200
                if fate == "malformed":
                    body, record[4] = body[: max(1, len(body) // 3)], 0
            else:
                status, body = int(fate), b'{"error": "try again later"}'
                if status == 429:
                    headers.append((b"retry-after", str(self.retry_after).encode()))
            finish()  # before the answer goes out: a client that has it must find it recorded
            await respond(send, status, body, headers)
        finally:
            finish()

    async def _control(self, method: str, path: str, query: dict[str, list[str]], send: Any) -> None:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/_stats":
            full = query.get("requests", ["1"])[0] not in ("0", "false")
            await respond(send, 200, json.dumps(self.stats(requests=full)).encode(), content_type=b"application/json")
        elif method == "GET" and path == "/_apps":
            body = {"base_urls": self.base_urls, "sources": self.sources(), "served": self.served()}
            await respond(send, 200, json.dumps(body).encode(), content_type=b"application/json")
        elif method == "POST" and path == "/_reset":
            self.reset_stats()
            await respond(send, 204, b"")
        elif method == "POST" and len(parts) == 3 and parts[0] == "_apps" and parts[2] == "reviews" and parts[1] in self.apps:
            ids = self.add_reviews(parts[1], int(query.get("count", ["1"])[0]))
            await respond(send, 200, json.dumps({"added": ids}).encode(), content_type=b"application/json")
        else:
            await respond(send, 404, b'{"error": "no such control"}')


def parse_feed_path(path: str) -> tuple[str, str, int] | None:
    """(country, app id, page) from a feed path, segments in any order, `sortby`/`sortBy`
    alike, as seen in the wild; None if it is not one."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[1:3] != ["rss", "customerreviews"] or parts[-1] != "json":
        return None
    keys = dict(p.split("=", 1) for p in parts[3:-1] if "=" in p)
    keys = {k.lower(): v for k, v in keys.items()}
    if not keys.get("id", "").isdigit() or not keys.get("page", "1").isdigit():
        return None
    return parts[0], keys["id"], int(keys.get("page", "1"))


async def respond(send: Any, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = (), *, content_type: bytes = CONTENT_TYPE) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def overlapping_requests(log: Sequence[Sequence[Any]]) -> list[tuple[list[Any], list[Any]]]:
    """Pairs of finished requests ([start, end, ...]) whose times overlap."""
    ordered = sorted(log, key=lambda r: r[0])
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b[0] >= a[1]:
                break
            pairs.append((list(a), list(b)))
    return pairs


def runs(done: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """[start, end, requests] per poll: a new run begins at a request for page 1 once the
    current run has had its page 1 answered with reviews."""
    out: list[list[Any]] = []
    answered = False
    for start, end, page, status, entries in done:
        if not out or (page == 1 and answered):
            out.append([start, end, 0])
            answered = False
        out[-1][1] = max(out[-1][1], end)
        out[-1][2] += 1
        answered = answered or (page == 1 and status == 200 and entries > 0)
    return out


def read_stats(base_url: str, *, requests: bool = True) -> dict[str, Any]:
    """The simulator's statistics, from any process."""
    import httpx

    return httpx.get(f"{base_url.rstrip('/')}/_stats", params={"requests": int(requests)}, timeout=30).json()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a simulated App Store reviews feed until interrupted.")
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--per-page", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=1)
    args = parser.parse_args()
    sim = PlatformSim(args.apps, pages=args.pages, per_page=args.per_page, latency=args.latency,
                      failure_rate=args.failure_rate, seed=args.seed, hosts=args.hosts)
    with sim:
        print(json.dumps({"base_urls": sim.base_urls, "apps": len(sim.app_ids), "served": sim.served()}), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
