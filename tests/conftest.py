"""Shared fixtures: a real database per test (a SQLite file, and PostgreSQL when
REVIEWMON_TEST_POSTGRES_URL is set), migrated by alembic exactly as users migrate."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from service import config as config_module
from service import db
from service.cli import cli
from service.context import Context

PG_URL = os.environ.get("REVIEWMON_TEST_POSTGRES_URL")
PG_SKIP = "REVIEWMON_TEST_POSTGRES_URL is not set, so PostgreSQL tests are skipped (.ci/run sets it)"

CONTACT = "hello@harbourlane.example"
BUSINESS = "Harbour Lane Bistro"


@pytest.fixture
def anyio_backend() -> str:
    """The web app's async tests run on asyncio, as uvicorn serves it."""
    return "asyncio"


@pytest.fixture(autouse=True)
def no_real_backoff():
    """Retries happen as in production, minus the waiting (stamina's test mode)."""
    import stamina

    with stamina.set_testing(True, attempts=3):
        yield


def pytest_configure(config) -> None:
    """The unpacked language model (service/reading/langid_model.py) goes to a folder of this run,
    for the tests and the `reviewmon` processes they start, not to the user's cache."""
    import tempfile

    os.environ.setdefault("REVIEWMON_CACHE_DIR", tempfile.mkdtemp(prefix="reviewmon-test-cache-"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not PG_URL:
        terminalreporter.write_line(f"note: {PG_SKIP}", yellow=True)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reviewmon.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + " }"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_config(
    folder: Path, database_url: str, sources: list[dict[str, Any]], *, contact: str = CONTACT, extra: str = ""
) -> Path:
    lines = [
        "[database]", f"url = {toml_value(database_url)}", "",
        "[business]", f"name = {toml_value(BUSINESS)}", f"contact = {toml_value(contact)}", "",
    ]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in source.items()]
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path


@pytest.fixture
def make_context(tmp_path: Path, database_url: str):
    """Build a migrated Context for the given sources (call again to change them)."""
    opened: list[Context] = []

    def make(sources: list[dict[str, Any]], **kwargs: Any) -> Context:
        path = write_config(tmp_path, database_url, sources, **kwargs)
        ctx = Context.open(config_module.load(path), check_schema=False)
        db.migrate(ctx.engine)
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(config: Path, *args: str, input: str | None = None) -> Result:
    """Run `reviewmon --config CONFIG ARGS` in-process, the way main() does."""
    from service.cli import main

    runner = CliRunner()
    return runner.invoke(_Main(main), ["--config", str(config), *args], input=input, catch_exceptions=False)


class _Main:
    """Adapts service.cli.main (which maps errors to exit codes) to CliRunner."""

    def __init__(self, main):
        self.main_fn = main
        self.name = "reviewmon"

    def main(self, args=None, prog_name=None, **_):
        self.main_fn(list(args))
        raise SystemExit(0)


__all__ = ["BUSINESS", "CONTACT", "cli", "run_cli", "write_config", "write_jsonl"]


@pytest.fixture
def fake_type(monkeypatch: pytest.MonkeyPatch):
    """Register the scripted FakeConnector as source type "fake"."""
    import connectors
    from tests import fakeconnector

    monkeypatch.setitem(connectors.available(), "fake", fakeconnector.FakeConnector)
    monkeypatch.setitem(connectors.available(), "fakereply", fakeconnector.FakeReplyConnector)
    fakeconnector.SCRIPTS.clear()
    fakeconnector.FakeReplyConnector.posted = []
    fakeconnector.FakeReplyConnector.shown = {}
    fakeconnector.FakeReplyConnector.refuse_with = None
    return fakeconnector
