"""A poll collects garbage less often while it runs, and leaves the process's collector
as it found it: `serve` and `worker` poll in a process that lives for months."""

from __future__ import annotations

import gc

import pytest

from service.polling import processes as poll_processes
from service.polling.collector import YOUNG_THRESHOLD, fewer_collections


def test_the_collector_is_put_back_after_a_poll_however_it_ends(make_context, fake_type, monkeypatch) -> None:
    fake_type.FakeSource("shop").page(fake_type.review("r1"))
    ctx = make_context([{"name": "shop", "type": "fake", "script": "shop"}])
    before = gc.get_threshold(), gc.get_freeze_count()
    seen = []

    def poll_while_looking(*args, **kwargs):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return real(*args, **kwargs)

    real = poll_processes._poll
    monkeypatch.setattr(poll_processes, "_poll", poll_while_looking)
    [result] = poll_processes.poll_on_all_cores(ctx)
    assert result.ok and seen == [(YOUNG_THRESHOLD, True)]
    assert (gc.get_threshold(), gc.get_freeze_count()) == before

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(poll_processes, "_poll", broken)
    with pytest.raises(RuntimeError):
        poll_processes.poll_on_all_cores(ctx)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_cycles_made_during_the_poll_are_still_collected() -> None:
    class Node:
        pass

    with fewer_collections():
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        del node
        assert gc.collect() >= 1
