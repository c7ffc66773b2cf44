"""Does a poll's memory stay flat whatever a page sends? (issue 18)

A local server (tests/feedserver.py, a thread of this process) sends what a hostile
platform might; each case is polled by `reviewmon poll` in a fresh process, on a fresh
SQLite database, through the real poll path, and that process's peak resident memory is
read from the kernel (os.wait4's ru_maxrss of the child):

    page-1mb        a 1 MB HTML page of JSON-LD reviews: read, parsed and stored
    plain-200mb     200 MB of HTML, sent without a length (counted as it comes)
    gzip-bomb-1gib  1 MB of gzip that unzips to 1 GiB (its Content-Length, 1 MB, is in bounds)
    jsonl-line-http a JSON answer (the App Store feed) of one 200 MB line, no length
    jsonl-line-file a JSON Lines file source with a 200 MB line between two good ones

Target (issue 18): every case's peak within 50 MB of the 1 MB page's. Before issue 18
the bomb took a poll to 2.2 GB, the plain body to 561 MB and the line to 713 MB.

    .venv/bin/python bench/poll_memory.py
    .venv/bin/python bench/poll_memory.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.appstore_feed import APP_ID, page_path  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.feedserver import FeedServer, gzip_bomb  # noqa: E402
from tests.jsonld_pages import business, html, review  # noqa: E402

MB = 1 << 20
TARGET_MB = 50
PIECE = 64 * 1024


def pieces(head: bytes, size: int, filler: bytes, tail: bytes) -> Callable[[], Iterator[bytes]]:
    """A body of about `size` bytes, written a piece at a time (never held whole)."""
    def body() -> Iterator[bytes]:
        yield head
        chunk = filler * (PIECE // len(filler))
        for _ in range(size // len(chunk)):
            yield chunk
        yield tail

    return body


def one_mb_page() -> bytes:
    text = "The soup was good and the staff were kind, though the wait was long. " * 30
    reviews = [review(n, body=f"{n}: {text}", published=f"2026-10-{n % 28 + 1:02d}") for n in range(1, 600)]
    page = html(business(reviews)).encode("utf-8")
    assert MB * 0.9 < len(page) < MB * 1.3, len(page)
    return page


def set_up(server: FeedServer, folder: Path) -> dict[str, dict[str, Any]]:
    """Every case's source, its answers served."""
    base = server.base_url
    server.serve("/page", one_mb_page())
    server.serve("/plain", pieces(b"<html><body>", 200 * MB, b" ", b"</body></html>"), length=False)
    server.serve("/bomb", gzip_bomb(1 << 30), Content_Encoding="gzip")
    line = pieces(b'{"feed": {"entry": [{"content": {"label": "', 200 * MB, b"x", b'"}}]}}')
    server.serve(page_path(1), line, content_type="application/json", length=False)
    with (folder / "big.jsonl").open("wb") as out:
        out.write(b'{"id": "a", "text": "before"}\n')
        for piece in pieces(b'{"id": "huge", "text": "', 200 * MB, b"x", b'"}\n')():
            out.write(piece)
        out.write(b'{"id": "b", "text": "after"}\n')
    return {
        "page-1mb": {"type": "jsonld", "url": f"{base}/page"},
        "plain-200mb": {"type": "jsonld", "url": f"{base}/plain"},
        "gzip-bomb-1gib": {"type": "jsonld", "url": f"{base}/bomb"},
        "jsonl-line-http": {"type": "appstore", "app_id": APP_ID, "country": "us", "base_url": base},
        "jsonl-line-file": {"type": "file", "path": str(folder / "big.jsonl")},
    }


def poll_once(folder: Path, name: str, source: dict[str, Any]) -> dict[str, Any]:
    """`reviewmon poll` of one source in a fresh process: its peak RSS and what it said."""
    case = folder / name
    case.mkdir()
    config = write_config(case, f"sqlite:///{case / 'reviewmon.db'}", [{"name": name, **source}])
    command = [sys.executable, "-m", "service", "--config", str(config)]
    subprocess.run([*command, "migrate"], check=True, capture_output=True)
    with (case / "out.txt").open("w+") as out:
        child = subprocess.Popen([*command, "poll", "--verbose"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        said = out.read().strip().splitlines()
    summary = " | ".join(line for line in said if line.startswith(f"{name}:")) or (said[-1] if said else "")
    return {"case": name, "peak_mb": round(usage.ru_maxrss / 1024, 1), "exit": child.returncode, "said": summary[:300]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reviewmon-poll-memory-") as tmp, FeedServer() as server:
        folder = Path(tmp)
        sources = set_up(server, folder)
        rows = [poll_once(folder, name, source) for name, source in sources.items()]
    page = rows[0]["peak_mb"]
    over = round(max(r["peak_mb"] for r in rows) - page, 1)
    result = {"rows": rows, "page_1mb_mb": page, "over_page_mb": over, "target_mb": TARGET_MB, "pass": over <= TARGET_MB}
    if args.json:
        print(json.dumps(result))
        return
    for row in rows:
        print(f"{row['case']:<16} peak {row['peak_mb']:>7.1f} MB  exit {row['exit']}  {row['said']}")
    print(f"the worst case over the 1 MB page: {over:+} MB (target <= {TARGET_MB} MB): {'pass' if result['pass'] else 'FAIL'}")


if __name__ == "__main__":
    main()
