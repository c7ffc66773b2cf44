"""Fixtures and helpers of the alert tests (tests/alerts/test_alerts*.py import the fixtures by
their *_fixture names): real receivers, an SMTP server (aiosmtpd) and a JSON webhook
(http.server), both on 127.0.0.1 on a free port in a thread of the test process; a file
source to poll reviews from; and a look into the outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import select

from service.alerts import enqueue
from service.config import AlertsConfig
from service.models import Alert, Review, Source
from service.polling import poll as poll_module
from tests.conftest import toml_value, write_jsonl


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str | None


class SmtpReceiver:
    """Plain SMTP, no TLS, no login: what `mailto://127.0.0.1:PORT?...` talks to."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), str(message["subject"]),
                               text.get_content() if text else "", html.get_content() if html else None))
        return "250 OK"

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=alerts@reviewmon.example&to=owner@harbourlane.example"

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Hook:
    path: str
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """Records each JSON POST; answers `status` (set it to 500 to fail), after `delay` seconds."""

    status: int = 200
    delay: float = 0.0
    posts: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.status < 300:
                    receiver.posts.append(Hook(self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SOURCE = {"name": "imports", "type": "file", "path": "reviews.jsonl", "platform": "Google", "location": "Old Town"}
# where the database makes no difference to what is tested, SQLite alone (PostgreSQL
# runs the enqueue, claim and concurrency tests)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
RECENT = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()


def review(ext: str, text: str, rating: int | None, author: str = "Tom", created_at: str = RECENT) -> dict[str, Any]:
    return {"id": ext, "text": text, "rating": rating, "author": author, "created_at": created_at}


HAPPY = review("ok1", "Lovely food and friendly staff, we will be back.", 5, "Ana")
ANGRY = review("bad1", "Waited an hour, the food was cold and the waiter was rude.", 1, "Tom")
ANGRY2 = review("bad2", "Dirty tables and a rude manager. Never again.", 2, "Bo")
ANGRY3 = review("bad3", "Overpriced and bland, a total waste of money.", 1, "Cy")
LEGAL = review("legal1", "I got food poisoning here and my lawyer will hear about it.", 1, "Dee")


def channels_toml(*channels: dict[str, Any], **alerts: Any) -> str:
    lines = ["", "[alerts]", *(f"{key} = {toml_value(value)}" for key, value in alerts.items()), ""]
    for channel in channels:
        lines += ["[[alerts.channels]]", *(f"{key} = {toml_value(value)}" for key, value in channel.items()), ""]
    return "\n".join(lines)


@pytest.fixture(name="alerts_ctx")
def alerts_ctx_fixture(make_context, tmp_path: Path):
    """make(rows, *channels, **alerts): a context whose file source holds `rows`."""

    def make(rows: list[dict[str, Any]], *channels: dict[str, Any], **alerts: Any):
        write_jsonl(tmp_path / "reviews.jsonl", rows)
        return make_context([SOURCE], extra=channels_toml(*channels, **alerts))

    return make


@pytest.fixture(name="webhook")
def webhook_fixture():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(name="smtp")
def smtp_fixture():
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


def poll(ctx, tmp_path: Path | None = None, rows: list[dict[str, Any]] | None = None, *, alerts: bool = False) -> datetime:
    """Poll the file source (after writing `rows`); returns the time the new rows were stored.

    The poller queues and sends alerts itself; unless `alerts`, it polls here with a config
    without channels, so that a test decides when alerts are queued and sent."""
    if rows is not None:
        write_jsonl(tmp_path / "reviews.jsonl", rows)
    poller = ctx if alerts else replace(ctx, config=ctx.config.model_copy(update={"alerts": AlertsConfig()}))
    [result] = asyncio.run(poll_module.poll(poller, ["imports"]))
    assert result.ok, result.error
    with ctx.session() as session:
        return session.exec(select(func.max(Review.changed_at))).one()


def arrived(ctx, stored_at: datetime, *, baseline: bool = False) -> int:
    """What the poller does in each page's transaction (called here too, so these tests do
    not depend on it; the unique (channel, key) makes a second call a no-op)."""
    with ctx.session() as session:
        source_id = session.exec(select(Source.id).where(Source.name == "imports")).one()
        return enqueue.reviews_arrived(session, ctx.config, source_id=source_id, stored_at=stored_at, baseline=baseline)


def alerts(ctx, **where: Any) -> list[Alert]:
    with ctx.session() as session:
        query = select(Alert).order_by(Alert.id)
        for name, value in where.items():
            query = query.where(getattr(Alert, name) == value)
        return list(session.exec(query))


def at(ctx, moment: datetime) -> None:
    ctx.clock = lambda: moment
