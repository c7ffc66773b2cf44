"""The requests of a poll and nothing else: what httpx alone costs on this machine.

bench/poll_many.py runs this beside `reviewmon poll` against the same simulated platform,
so that its table shows how much of a poll's time is the HTTP client's own work. Reads a
JSON list of chains from stdin, one chain per source: the URLs of its pages, requested
one after another (as a poller must: the next page is known from the last one), all
chains at once, one `httpx.AsyncClient` per chain (as the poller keeps one connection
pool per source). Nothing is parsed beyond `response.json()` and nothing is stored. The
chains are split over `--processes` forked processes, as `reviewmon poll` spreads its
sources over the cores. Prints {"wall_s", "cpu_s", "requests"}: start-up is excluded,
so this is a lower bound for any poller built on httpx, not a target to compare start-up
with.

    echo '[["http://127.0.0.1:8000/a/1", "http://127.0.0.1:8000/a/2"]]' | python bench/bare_httpx.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import time

import httpx


async def _chains(chains: list[list[str]]) -> int:
    ssl = httpx.create_ssl_context()  # one for all: building one costs milliseconds

    async def chain(urls: list[str]) -> int:
        async with httpx.AsyncClient(timeout=60, verify=ssl) as client:
            for url in urls:
                response = await client.get(url)
                response.raise_for_status()
                response.json()
        return len(urls)

    return sum(await asyncio.gather(*(chain(urls) for urls in chains)))


def _share(chains: list[list[str]]) -> None:
    asyncio.run(_chains(chains))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    chains: list[list[str]] = json.load(sys.stdin)
    shares = [chains[i::args.processes] for i in range(args.processes)]
    fork = multiprocessing.get_context("fork")
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    workers = [fork.Process(target=_share, args=(share,)) for share in shares[1:]]
    for worker in workers:
        worker.start()
    _share(shares[0])
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise SystemExit(f"a request process failed (exit code {worker.exitcode})")
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "requests": sum(map(len, chains))}))


if __name__ == "__main__":
    main()
