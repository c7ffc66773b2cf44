"""Prometheus metrics of this process: what it polled, stored and sent.

Counters count what *this* process did since it started (the Prometheus way: each
worker is scraped on its own and the sums are taken in PromQL). Figures that belong to
the database as a whole (drafts waiting, failing sources) are read from it at scrape
time by service/web/routes_ops.py.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REVIEWS_INGESTED = Counter(
    "reviewmon_reviews_ingested", "Reviews stored by polls, by source and kind (inserted, updated).",
    ["source", "kind"], registry=REGISTRY,
)
POLLS = Counter("reviewmon_polls", "Polls of a source, by outcome (ok, failed).", ["outcome"], registry=REGISTRY)
POLL_SECONDS = Histogram(
    "reviewmon_poll_duration_seconds", "Wall time of one poll of one source.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600), registry=REGISTRY,
)
ALERTS_SENT = Counter(
    "reviewmon_alerts_sent", "Alert messages handed to a channel, by channel and outcome (sent, failed).",
    ["channel", "outcome"], registry=REGISTRY,
)
