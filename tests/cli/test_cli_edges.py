"""Edges of the command line (issue 18): a database that cannot be reached is one line
and exit 2 for every command, never a traceback; numbers too big for the database are
"no such draft", never a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import cli
from tests.conftest import run_cli, write_config

CLOSED = "postgresql+psycopg://reviewmon@127.0.0.1:1/reviewmon"  # nothing listens on port 1
HUGE = "99999999999999999999999"

# Every command, with arguments it accepts; the test below fails when a new command is not here.
ARGS: dict[str, list[str]] = {
    "alerts list": [], "alerts send": [], "alerts test": ["owners"], "alerts report": [],
    "drafts list": [], "drafts show": ["1"], "drafts edit": ["1", "--text", "Hi"], "drafts regenerate": ["1"],
    "drafts followup": ["1", "--outcome", "resolved"], "drafts approve": ["1"], "drafts reject": ["1"],
    "drafts post": [], "drafts withdraw": ["1"], "drafts mark-posted": ["1"], "followups": [], "inbox": [],
    "poll": [], "backfill": ["--source", "site"], "rescore": [], "sources": [], "runs": [],
    "reviews list": [], "reviews show": ["1"], "migrate": [], "worker": [], "serve": [], "trends": [],
    "users add": ["maria", "--role", "owner", "--password-stdin"], "users first-owner": [],
    "users passwd": ["olive", "--password-stdin"], "users disable": ["olive"], "users list": [],
    "users logout-everywhere": ["olive"], "users role": ["olive", "admin"],
    "sources purge": ["gone", "--yes"], "db copy": ["--to-env", "COPY_TARGET_URL"], "db backup": ["backup.db"],
    "tokens add": ["bot", "--role", "owner"], "tokens list": [], "tokens revoke": ["bot"],
}
NO_DATABASE = {"policy check", "sentiment check"}  # they read a text, never the database


def commands(group=cli, prefix: str = ""):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            if command.invoke_without_command:  # `reviewmon sources` lists, `sources purge` deletes
                yield f"{prefix}{name}"
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


@pytest.fixture
def unreachable(tmp_path: Path) -> Path:
    return write_config(tmp_path, CLOSED, [{"name": "site", "type": "file", "path": "reviews.jsonl"}])


def test_every_command_says_in_one_line_that_the_database_cannot_be_reached(unreachable: Path, monkeypatch) -> None:
    monkeypatch.setenv("COPY_TARGET_URL", f"sqlite:///{unreachable.parent / 'copy.db'}")
    assert set(commands()) == set(ARGS) | NO_DATABASE
    for command, args in ARGS.items():
        result = run_cli(unreachable, *command.split(), *args, input="a long enough password\n")
        assert result.exit_code == 2, (command, result.exit_code, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "127.0.0.1" in lines[0] and "cannot reach the database" in lines[0], (command, result.stderr)
        assert result.stdout == "" or "serving" not in result.stdout


def test_the_installed_command_prints_no_traceback_either(unreachable: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "service", "--config", str(unreachable), "inbox"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("reviewmon: error: cannot reach the database") and "127.0.0.1" in line and "1" in line


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    path = write_config(tmp_path, database_url, [])
    assert run_cli(path, "migrate").exit_code == 0
    return path


def test_ids_too_big_for_the_database_are_no_such_draft(config: Path) -> None:
    for number in (HUGE, "9223372036854775808", "2147483648"):
        for command in ("show", "approve", "reject", "regenerate", "withdraw", "mark-posted"):
            result = run_cli(config, "drafts", command, number)
            assert result.exit_code == 1 and f"no draft with id {number}" in result.output, (command, result.output)
        assert run_cli(config, "drafts", "edit", number, "--text", "Hi").exit_code == 1
        assert run_cli(config, "drafts", "followup", number, "--outcome", "resolved").exit_code == 1
        posted = run_cli(config, "drafts", "post", number)
        assert posted.exit_code == 1 and f"no draft with id {number}" in posted.output
        shown = run_cli(config, "reviews", "show", number)
        assert shown.exit_code == 1 and f"no review with id {number}" in shown.output
    for command in (["reviews", "list"], ["drafts", "list"], ["inbox"], ["alerts", "list"], ["runs"]):
        too_many = run_cli(config, *command, "--limit", HUGE)
        assert too_many.exit_code in (0, 2), (command, too_many.output)
