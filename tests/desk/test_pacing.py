"""The per-profile pacer that keeps a batch of replies within a platform's edit quota."""

from __future__ import annotations

import asyncio

from service.desk.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_eleventh_edit_of_a_minute_waits_and_other_profiles_do_not() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)

    async def batch() -> None:
        for _ in range(10):
            await pacer.wait("a", 10)
        await pacer.wait("b", 10)
        assert clock.slept == []
        await pacer.wait("a", 10)
        assert clock.slept == [61.0] and clock.now == 61.0
        await pacer.wait("a", None)  # a platform without a limit never waits
        assert clock.slept == [61.0]

    asyncio.run(batch())


def test_replies_started_together_share_the_limit() -> None:
    """A batch and a click on the web page at the same time: twelve reservations, two wait."""
    clock = Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    delays = [pacer.reserve("a", 10) for _ in range(12)]
    assert delays == [0.0] * 10 + [61.0, 61.0]


def test_a_quiet_minute_frees_the_profile_again() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    assert [pacer.reserve("a", 10) for _ in range(10)] == [0.0] * 10
    clock.now = 30.0
    assert pacer.reserve("a", 10) == 31.0  # the first of the ten leaves the window at 61
    clock.now = 200.0
    assert [pacer.reserve("a", 10) for _ in range(10)] == [0.0] * 10
