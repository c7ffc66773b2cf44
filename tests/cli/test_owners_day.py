"""The owner's day at the command line (issue 19): who acts, and words a person understands
(the platform, the word that escalated a review, what the history says happened, tables
that fit the terminal, one line in cron's mail per failed source)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import CONTACT, run_cli, write_config, write_jsonl

PASSWORD = "a long enough secret"
LONG = ("Waited 50 minutes for a table although we had booked, and when the soup finally came it was cold, "
        "the bread was stale and nobody came to ask whether everything was all right. Awful evening.")
ROWS = [
    {"id": "g1", "text": "The waiter was openly Racist towards my husband. Disgusting.", "rating": 1, "author": "Priya",
     "created_at": "2026-11-02T19:00:00+00:00"},
    {"id": "g2", "text": "My daughter had an allergic reaction after the dessert. Awful.", "rating": 1, "author": "Tom",
     "created_at": "2026-11-03T19:00:00+00:00"},
    {"id": "g3", "text": LONG, "rating": 1, "author": "Nora Quinn", "created_at": "2026-11-04T19:00:00+00:00"},
]
GOOD = f"Hi, we are sorry to read this. Please email us at {CONTACT} so the manager can talk with you."


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    write_jsonl(tmp_path / "google.jsonl", ROWS)
    path = write_config(tmp_path, database_url, [{"name": "google-export", "type": "file", "path": "google.jsonl",
                                                  "platform": "Google"}])
    assert run_cli(path, "migrate").exit_code == 0
    assert run_cli(path, "poll").exit_code == 0
    return path


def inbox(config: Path) -> dict[str, dict]:
    return {row["author"]: row for row in json.loads(run_cli(config, "inbox", "--format", "json").output)}


def draft(config: Path, draft_id: int) -> dict:
    return json.loads(run_cli(config, "drafts", "show", str(draft_id), "--format", "json").output)[0]


def add_user(config: Path, name: str, role: str) -> None:
    added = run_cli(config, "users", "add", name, "--role", role, "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output


# --- who acts ------------------------------------------------------------------------------


def test_on_a_fresh_install_any_name_acts_and_is_recorded(config: Path) -> None:
    """No account yet: the first-run path works as before, and --user names who did it."""
    plain = inbox(config)["Nora Quinn"]["draft_id"]
    assert run_cli(config, "--user", "random_intern", "drafts", "reject", str(plain)).exit_code == 0
    assert [e["actor"] for e in draft(config, plain)["history"]] == ["reviewmon", "random_intern"]


def test_once_accounts_exist_user_must_name_an_active_one_and_its_role_applies(config: Path) -> None:
    add_user(config, "maria", "owner")
    add_user(config, "marko", "marketer")
    add_user(config, "gone", "owner")
    assert run_cli(config, "users", "disable", "gone").exit_code == 0
    escalated = inbox(config)["Priya"]["draft_id"]

    marketer = run_cli(config, "--user", "marko", "drafts", "approve", str(escalated))
    assert marketer.exit_code == 1 and "marko (marketer) may not approve replies" in marketer.output
    edit = run_cli(config, "--user", "marko", "drafts", "edit", str(escalated), "--text", GOOD)
    assert edit.exit_code == 1 and "may not edit drafts" in edit.output
    for name, why in (("random_intern", "no account named 'random_intern'"), ("gone", "the account 'gone' is disabled")):
        unknown = run_cli(config, "--user", name, "drafts", "approve", str(escalated))
        assert unknown.exit_code == 2 and why in unknown.output and "reviewmon users list" in unknown.output
    assert draft(config, escalated)["status"] == "drafted"
    assert [e["actor"] for e in draft(config, escalated)["history"]] == ["reviewmon"]  # nothing they tried is recorded

    assert run_cli(config, "--user", "maria", "drafts", "edit", str(escalated), "--text", GOOD).exit_code == 0
    assert run_cli(config, "--user", "maria", "drafts", "approve", str(escalated)).exit_code == 0
    row = draft(config, escalated)
    assert row["status"] == "approved" and row["edited_by"] == "maria"
    assert [(e["actor"], e["action"]) for e in row["history"]] == [("reviewmon", "drafted"), ("maria", "edited"),
                                                                   ("maria", "approved")]
    # Reading needs no account of one's own: cron and scripts go on as before.
    assert run_cli(config, "--user", "random_intern", "inbox").exit_code == 0


def test_the_default_user_is_reviewmon_user_and_must_be_an_account_too(config: Path, monkeypatch) -> None:
    add_user(config, "maria", "owner")
    plain = inbox(config)["Nora Quinn"]["draft_id"]
    monkeypatch.setenv("REVIEWMON_USER", "nobody_here")
    refused = run_cli(config, "drafts", "reject", str(plain))
    assert refused.exit_code == 2 and "no account named 'nobody_here'" in refused.output and "--user" in refused.output
    monkeypatch.setenv("REVIEWMON_USER", "maria")
    assert run_cli(config, "drafts", "reject", str(plain)).exit_code == 0
    assert draft(config, plain)["history"][-1]["actor"] == "maria"


# --- words a person understands -------------------------------------------------------------


def test_sources_and_the_inbox_name_the_platform_the_owner_configured(config: Path) -> None:
    [source] = json.loads(run_cli(config, "sources", "--format", "json").output)
    assert (source["name"], source["type"], source["platform"]) == ("google-export", "file", "Google")
    assert "Google" in run_cli(config, "sources").output
    assert {row["platform"] for row in inbox(config).values()} == {"Google"}


def test_escalation_names_the_word_as_the_review_wrote_it(config: Path, monkeypatch) -> None:
    rows = inbox(config)
    assert rows["Priya"]["escalation"] == "discrimination (Racist)"
    assert rows["Tom"]["escalation"] == "illness (allergic)"
    shown = run_cli(config, "reviews", "show", str(rows["Tom"]["review_id"])).output
    assert "illness (allergic)" in shown and "(allerg)" not in shown
    monkeypatch.setenv("COLUMNS", "160")
    table = run_cli(config, "inbox").output
    assert "discrimination (Racist)" in table and "illness (allergic)" in table


def test_the_history_says_what_happened(config: Path) -> None:
    plain = inbox(config)["Nora Quinn"]["draft_id"]
    assert run_cli(config, "--user", "maria", "drafts", "edit", str(plain), "--text", GOOD).exit_code == 0
    assert run_cli(config, "--user", "sean", "drafts", "approve", str(plain)).exit_code == 0
    assert run_cli(config, "--user", "maria", "drafts", "edit", str(plain), "--text", GOOD + " Thank you.").exit_code == 0
    assert run_cli(config, "--user", "sean", "drafts", "regenerate", str(plain)).exit_code == 0
    assert run_cli(config, "--user", "sean", "drafts", "reject", str(plain), "--reason", "we call her").exit_code == 0

    said = [e["what"] for e in draft(config, plain)["history"]]
    assert said == ["drafted a reply", "edited the draft", "approved the reply",
                    "edited the approved reply: it needs approving again", "asked for another wording",
                    "rejected the reply"]
    out = run_cli(config, "drafts", "show", str(plain)).output
    for line in ("reviewmon drafted a reply", "maria edited the draft", "sean approved the reply",
                 "maria edited the approved reply: it needs approving again", "sean rejected the reply — we call her"):
        assert line in out
    assert "->" not in out


# --- tables that fit the terminal -----------------------------------------------------------


def lines_of(table: str) -> list[str]:
    return [line for line in table.splitlines() if line.strip()]


def test_the_inbox_fits_80_columns_one_line_a_review(config: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    table = lines_of(run_cli(config, "inbox").output)
    assert all(len(line) <= 80 for line in table), table
    assert len(table) == 2 + len(ROWS)  # the heading, its rule, then one line per review
    [nora] = [line for line in table if "Waited 50 minutes for a" in line]
    assert nora.rstrip().endswith("…") and "discrimination" in "".join(table)  # shortened, not wrapped
    monkeypatch.setenv("COLUMNS", "200")
    wide = lines_of(run_cli(config, "inbox").output)
    assert "triage" in wide[0] and "waiting" in wide[0] and len(wide) == 2 + len(ROWS)


def test_sources_keep_their_dates_whole_at_100_columns(config: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    table = lines_of(run_cli(config, "sources").output)
    assert all(len(line) <= 100 for line in table) and len(table) == 3, table
    assert re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", table[2]) != [] and "google-export" in table[2]
    assert not re.search(r"\d{4}-\d\d-\s*$", table[2])  # no date cut at the end of a line
    monkeypatch.setenv("COLUMNS", "60")
    narrow = lines_of(run_cli(config, "sources").output)
    assert all(len(line) <= 60 for line in narrow) and len(narrow) == 3, narrow
    assert "google-export" in narrow[2] and "ok" in narrow[2]  # the name and the health stay


# --- cron's mail ------------------------------------------------------------------------------


def test_a_failing_source_under_cron_is_one_readable_line(tmp_path: Path, database_url: str) -> None:
    write_jsonl(tmp_path / "good.jsonl", ROWS[:1])
    path = write_config(tmp_path, database_url, [{"name": "gone", "type": "file", "path": "missing.jsonl"},
                                                 {"name": "lost", "type": "file", "path": "lost.jsonl"},
                                                 {"name": "good", "type": "file", "path": "good.jsonl"}])
    run_cli(path, "migrate")
    cron = run_cli(path, "poll")
    assert cron.exit_code == 1 and cron.stdout == ""
    lines = cron.stderr.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == ["gone", "lost"], lines  # one line per failed source, nothing else
    [gone] = [line for line in lines if line.startswith("gone:")]
    assert gone.startswith("gone: poll failed: cannot read ") and gone.endswith("missing.jsonl: No such file or directory")

    asked = run_cli(path, "--log-format", "json", "poll", "--all")  # logs asked for: the structured records stay
    assert asked.exit_code == 1
    records = [json.loads(line) for line in asked.stderr.splitlines() if line.startswith("{")]
    assert {(r["source"], r["ok"]) for r in records if "source" in r} >= {("gone", False), ("lost", False)}
    words = [line for line in asked.stderr.splitlines() if not line.startswith("{")]
    assert sorted(line.split(":")[0] for line in words) == ["gone", "lost"]
