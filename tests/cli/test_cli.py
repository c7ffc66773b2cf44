"""The command line as owners and scripts use it: formats, exit codes, the draft flow."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import CONTACT, run_cli, write_config, write_jsonl

ROWS = [
    {"id": "a1", "text": "Waited 50 minutes and the soup was cold. Awful.", "rating": 1, "author": "Nora Quinn",
     "created_at": "2026-11-02T19:00:00+00:00"},
    {"id": "a2", "text": "Great chowder!", "rating": 5, "author": "Sam", "created_at": "2026-11-03T12:00:00+00:00"},
    {"id": "a3", "text": "\x1b[31mRED\x1b[0m <script>alert(1)</script> {{ 7*7 }} \u202egnp.exe", "rating": 2,
     "author": "Eve", "created_at": "2026-11-10T08:00:00+00:00"},
]


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    write_jsonl(tmp_path / "reviews.jsonl", ROWS)
    path = write_config(tmp_path, database_url, [{"name": "site", "type": "file", "path": "reviews.jsonl"}])
    assert run_cli(path, "migrate").exit_code == 0
    assert run_cli(path, "poll").exit_code == 0
    return path


def drafts(config: Path, *args: str) -> list[dict]:
    return json.loads(run_cli(config, "drafts", "list", "--format", "json", *args).output)


def test_unmigrated_database_is_refused_with_the_fix(tmp_path: Path, database_url: str) -> None:
    path = write_config(tmp_path, database_url, [])
    result = run_cli(path, "reviews", "list")
    assert result.exit_code == 2
    assert "has no reviewmon tables yet; run `reviewmon migrate`" in result.output
    assert run_cli(path, "migrate").exit_code == 0
    again = run_cli(path, "migrate")
    assert "already at schema" in again.output


def test_poll_is_quiet_on_success_when_unattended(config: Path) -> None:
    result = run_cli(config, "poll")
    assert result.exit_code == 0 and result.output == ""
    verbose = run_cli(config, "poll", "--verbose")
    assert "no source is due" in verbose.output  # the first poll set its next due time
    verbose = run_cli(config, "poll", "--all", "--verbose")
    assert "site: ok, 0 read" in verbose.output


def test_poll_fails_loudly_and_names_the_failed_source(tmp_path: Path, database_url: str) -> None:
    write_jsonl(tmp_path / "good.jsonl", ROWS[:1])
    path = write_config(tmp_path, database_url, [
        {"name": "gone", "type": "file", "path": "missing.jsonl"},
        {"name": "good", "type": "file", "path": "good.jsonl"},
    ])
    run_cli(path, "migrate")
    result = run_cli(path, "poll")
    assert result.exit_code == 1
    assert "gone: poll failed: cannot read" in result.output
    assert "sources failed" not in result.output  # unattended: the failed source's line is all cron mails
    verbose = run_cli(path, "poll", "--all", "--verbose")
    assert verbose.exit_code == 1 and "good: ok" in verbose.output and "1 of 2 sources failed: gone" in verbose.output
    listed = json.loads(run_cli(path, "reviews", "list", "--format", "json").output)
    assert [r["external_id"] for r in listed] == ["a1"]  # the good source still landed
    sources = json.loads(run_cli(path, "sources", "--format", "json").output)
    assert {s["name"]: s["failure_count"] for s in sources} == {"gone": 2, "good": 0}  # two polls, two failures in a row


def test_reviews_json_has_the_documented_fields(config: Path) -> None:
    rows = json.loads(run_cli(config, "reviews", "list", "--format", "json").output)
    assert [r["external_id"] for r in rows] == ["a3", "a2", "a1"]  # newest first
    for key in ("id", "source", "external_id", "rating", "title", "text", "author", "created_at", "updated_at",
                "sentiment", "negative", "revisions"):
        assert key in rows[0]
    assert rows[0]["text"] == ROWS[2]["text"]  # exact text, escapes and all, for scripts
    negative = json.loads(run_cli(config, "reviews", "list", "--negative", "--format", "json").output)
    assert {r["external_id"] for r in negative} == {"a1", "a3"}
    assert json.loads(run_cli(config, "reviews", "list", "--format", "json", "--limit", "1").output)[0]["external_id"] == "a3"


def test_csv_gives_every_row_with_a_header(config: Path) -> None:
    out = run_cli(config, "drafts", "list", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2 and rows[0]["status"] == "drafted" and rows[0]["policy_ok"] == "true"
    assert set(rows[0]) >= {"id", "review_id", "source", "external_id", "status", "text", "policy_ok", "policy_problems"}


def test_tables_show_hostile_text_as_inert_text(config: Path) -> None:
    table = run_cli(config, "reviews", "list").output
    assert "\x1b" not in table and "\u202e" not in table and "\\x1b" in table
    [hostile] = [r for r in json.loads(run_cli(config, "reviews", "list", "--format", "json").output) if r["external_id"] == "a3"]
    out = run_cli(config, "reviews", "show", str(hostile["id"])).output
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31mRED\\x1b[0m <script>alert(1)</script> {{ 7*7 }} \\u202egnp.exe" in out and "49" not in out


def test_the_owner_flow_edit_fail_fix_approve(config: Path) -> None:
    [draft, _] = drafts(config)
    assert draft["status"] == "drafted" and draft["policy_ok"]

    bad = run_cli(config, "--user", "maria", "drafts", "edit", str(draft["id"]), "--text",
                  f"Sorry Nora, but it was a busy night. We'll refund you 50% - call 555 0100 or {CONTACT}.")
    assert bad.exit_code == 1
    assert "draft %d saved" % draft["id"] in bad.output
    for reason in ("something of value", "argues", "details of the case", "contact details other than"):
        assert reason in bad.output
    [saved] = [d for d in drafts(config) if d["id"] == draft["id"]]
    assert not saved["policy_ok"] and saved["text"].startswith("Sorry Nora, but")

    refused = run_cli(config, "--user", "maria", "drafts", "approve", str(draft["id"]))
    assert refused.exit_code == 1 and "fails the policy guard" in refused.output
    assert drafts(config, "--status", "approved") == []

    good = f"Hi Nora, we are sorry to read this. Please email us at {CONTACT} so the manager can talk with you."
    fixed = run_cli(config, "--user", "maria", "drafts", "edit", str(draft["id"]), "--file", "-", input=good)
    assert fixed.exit_code == 0 and "policy guard: passes" in fixed.output
    approved = run_cli(config, "--user", "sean", "drafts", "approve", str(draft["id"]))
    assert approved.exit_code == 0
    assert re.fullmatch(rf"draft {draft['id']} approved: it can go out (now|from \S+ \S+ UTC, when the cooling-off ends)\n",
                        approved.stdout)
    [done] = drafts(config, "--status", "approved")
    assert done["text"] == good and done["edited_by"] == "maria"

    history = json.loads(run_cli(config, "drafts", "show", str(draft["id"]), "--format", "json").output)[0]["history"]
    assert [(h["actor"], h["action"]) for h in history] == [
        ("reviewmon", "drafted"), ("maria", "edited"), ("maria", "approval refused"), ("maria", "edited"), ("sean", "approved"),
    ]
    again = run_cli(config, "drafts", "approve", str(draft["id"]))
    assert again.exit_code == 1 and "cannot be approved from there" in again.output


def test_reject_and_missing_draft(config: Path) -> None:
    [draft, _] = drafts(config)
    assert run_cli(config, "drafts", "reject", str(draft["id"]), "--reason", "spam").exit_code == 0
    assert [d["status"] for d in drafts(config) if d["id"] == draft["id"]] == ["rejected"]
    missing = run_cli(config, "drafts", "show", "9999")
    assert missing.exit_code == 1 and "no draft with id 9999" in missing.output


def test_drafts_show_prints_review_reply_and_verdict(config: Path) -> None:
    [draft, _] = drafts(config)
    out = run_cli(config, "drafts", "show", str(draft["id"])).output
    assert "Nora Quinn" in out and CONTACT in out and "policy guard: passes" in out and "reviewmon drafted a reply" in out


def test_trends_per_week(config: Path) -> None:
    period = ("--from", "2026-11-02", "--to", "2026-11-15")
    report = json.loads(run_cli(config, "trends", *period, "--format", "json").output)
    assert [(b["bucket"], b["reviews"], b["mean_rating"], b["negative"], b["negative_share"]) for b in report["buckets"]] == [
        ("2026-11-02", 2, 3.0, 1, 0.5),
        ("2026-11-09", 1, 2.0, 1, 1.0),
    ]
    assert report["totals"]["reviews"] == 3 and report["previous_period"] == {"start": "2026-10-19", "end": "2026-11-01"}
    rows = list(csv.DictReader(io.StringIO(run_cli(config, "trends", *period, "--format", "csv").output)))
    assert [(r["bucket"], r["reviews"], r["negative_share"]) for r in rows] == [("2026-11-02", "2", "0.5"), ("2026-11-09", "1", "1.0")]
    assert set(rows[0]) >= {"start", "end", "mean_rating", "response_rate", "median_reply_hours"}
    months = json.loads(run_cli(config, "trends", "--from", "2026-10-15", "--to", "2026-11-30", "--bucket", "month",
                                "--format", "json").output)
    assert [(b["bucket"], b["start"], b["reviews"]) for b in months["buckets"]] == [("2026-10-01", "2026-10-15", 0),
                                                                                 ("2026-11-01", "2026-11-01", 3)]
    table = run_cli(config, "trends", *period, "--source", "site").output
    assert "per week" in table and "by location" in table and "topics of negative reviews" in table
    assert run_cli(config, "trends", "--source", "nope").exit_code == 1
    assert run_cli(config, "trends", "--from", "2026-11-15", "--to", "2026-11-02").exit_code == 2


def test_policy_check_command(config: Path) -> None:
    ok = run_cli(config, "policy", "check", "--text", f"Thank you. Please email us at {CONTACT}.")
    assert ok.exit_code == 0
    bad = run_cli(config, "policy", "check", "--text", "Please update your review to 5 stars and enjoy a free dessert!")
    assert bad.exit_code == 1 and "change or remove" in bad.output and "something of value" in bad.output


def test_sentiment_check_says_how_a_text_would_be_read_and_stores_nothing(config: Path) -> None:
    stored = run_cli(config, "reviews", "list", "--format", "json").output
    cold = run_cli(config, "sentiment", "check", "--text", "Food was cold. Never again.", "--rating", "3")
    assert cold.exit_code == 0 and "negative: yes" in cold.output
    assert "text model" in cold.output and "complaint cue (cold or badly cooked food)" in cold.output
    stars = run_cli(config, "sentiment", "check", "--text", "Food was cold.", "--rating", "5", "--format", "json")
    [row] = json.loads(stars.output)
    assert row["negative"] is False and row["reason"].startswith("rating 5 of 5")
    hostile = run_cli(config, "sentiment", "check", "--text", "Great view. The <b>{{ 7*7 }}</b> waiter was rude\x1b[2J to us.")
    assert hostile.exit_code == 0 and "\x1b" not in hostile.output  # the escape is shown, not obeyed
    assert "'The <b>{{ 7*7 }}</b> waiter was rude\\x1b[2J to us.'" in hostile.output  # quoted as written
    assert run_cli(config, "sentiment", "check").exit_code == 2  # no text given
    assert run_cli(config, "sentiment", "check", "--text", "ok", "--rating", "9").exit_code == 2
    assert run_cli(config, "reviews", "list", "--format", "json").output == stored


def test_unattended_logs_are_one_json_object_per_line(config: Path, tmp_path: Path) -> None:
    rows = [*ROWS, '{"id": "broken"', {"id": "a4", "text": "New one.", "rating": 4}]
    write_jsonl(tmp_path / "reviews.jsonl", rows)
    result = run_cli(config, "--log-level", "info", "--log-format", "json", "poll", "--all")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    skipped = [r for r in records if r["message"].startswith("site: skipped")]
    assert skipped and skipped[0]["where"] == "line 4" and skipped[0]["raw"]
    [summary] = [r for r in records if r["message"] == "site: polled"]
    assert (summary["source"], summary["inserted"], summary["rejected"], summary["ok"]) == ("site", 1, 1, True)
