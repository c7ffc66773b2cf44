"""Claim due sources, fetch their pages, store and score the reviews: the poller (one
orchestrator for cron, the worker and the web app), its processes, leases, group
commit, ingest, backfill and the worker loop.

May import every stage below it: the shared modules, reading, replies, desk, trends, alerts.
"""
