"""What the browser tests share: a reviewmon web app served on a free port with the bundled
sample source polled, Debian's Chromium driven by Playwright, and logging in.

The tests skip, with the reason, where Chromium or Playwright is missing (.ci/run installs
Chromium; `make test` installs Playwright)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service import config as config_module
from service import db
from service.context import Context
from service.desk import users
from service.polling import poll as poll_module
from tests.conftest import write_config
from tests.paths import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
OWNER, MARKETER, PASSWORD = "maria", "sam", "correct horse battery"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(folder: Path, *, cooling_off: str = "0s") -> Iterator[str]:
    """The web app on a free port (its base URL), its sample source polled, an owner and a
    marketer with PASSWORD."""
    import uvicorn

    from service.web import create_app

    path = write_config(folder, f"sqlite:///{folder / 'reviewmon.db'}", [{"name": "sample", "type": "sample"}],
                        extra=f'\n[replies]\ncooling_off = "{cooling_off}"\n')
    ctx = Context.open(config_module.load(path), check_schema=False)
    db.migrate(ctx.engine)
    # In a thread of its own: Playwright's sync API may be running an event loop here already.
    polling = threading.Thread(target=lambda: asyncio.run(poll_module.poll(ctx)))
    polling.start()
    polling.join()
    users.add_user(ctx, OWNER, "owner", PASSWORD)
    users.add_user(ctx, MARKETER, "marketer", PASSWORD)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.close()


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser, viewport: dict[str, int]) -> Iterator[object]:
    """A fresh browser context (no cookies) whose page records console errors."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    try:
        yield page
    finally:
        context.close()


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/inbox**")
