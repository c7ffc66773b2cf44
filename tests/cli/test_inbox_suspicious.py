"""`reviewmon inbox --suspicious` (issue 19): what the web's Suspicious tab shows, at the
command line, for people (a table) and scripts (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config, write_jsonl

CRYPTO = "Great place!!! Earn 500% with bitcoin at http://crypto.example"
ROWS = [
    {"id": "crypto", "text": CRYPTO, "rating": 5, "author": "Coin Guy", "created_at": "2026-11-05T10:00:00+00:00",
     "url": "https://maps.example/reviews/crypto"},
    {"id": "angry-spam", "text": "Terrible food, cold and stale. Cheap deals on followers, message me on whatsapp.",
     "rating": 1, "author": "Promo", "created_at": "2026-11-04T10:00:00+00:00"},
    {"id": "fine", "text": "Lovely fish soup and friendly staff, we will come back for the mussels.", "rating": 4,
     "author": "Nora", "created_at": "2026-11-03T10:00:00+00:00", "url": "https://maps.example/reviews/fine"},
]
GOOGLE = {"name": "google-export", "type": "file", "path": "google.jsonl", "platform": "Google"}
CLOSED = {"name": "closed-branch", "type": "file", "path": "closed.jsonl"}


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    write_jsonl(tmp_path / "google.jsonl", ROWS)
    write_jsonl(tmp_path / "closed.jsonl", [{"id": "c1", "text": "Visit now for a promo code, whatsapp me", "rating": 5,
                                             "author": "Closed Spammer", "created_at": "2026-11-06T10:00:00+00:00"}])
    path = write_config(tmp_path, database_url, [GOOGLE, CLOSED])
    assert run_cli(path, "migrate").exit_code == 0
    assert run_cli(path, "poll").exit_code == 0
    return path


def suspicious(config: Path, *args: str) -> list[dict]:
    result = run_cli(config, "inbox", "--suspicious", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_five_star_crypto_review_is_listed_with_its_report_link(config: Path) -> None:
    rows = suspicious(config)
    assert [row["author"] for row in rows] == ["Closed Spammer", "Coin Guy", "Promo"]  # newest first; not Nora
    crypto = rows[1]
    assert (crypto["rating"], crypto["text"], crypto["platform"]) == (5, CRYPTO, "Google")
    assert crypto["triage"] == "reads like spam ('earn 500')" and crypto["draft_id"] is None
    assert crypto["report_url"] == "https://maps.example/reviews/crypto" and crypto["report_note"] is None
    assert set(crypto) >= {"review_id", "source", "url", "location", "written_at", "draft_status", "report_help"}


def test_a_one_star_spam_review_is_there_and_still_in_the_inbox(config: Path) -> None:
    [spam] = [row for row in suspicious(config) if row["author"] == "Promo"]
    inbox = {row["author"]: row for row in json.loads(run_cli(config, "inbox", "--format", "json").stdout)}
    assert set(inbox) == {"Promo"} and spam["draft_id"] == inbox["Promo"]["draft_id"] is not None
    assert spam["report_url"] is None and "no platform to report it to" in spam["report_note"]


def test_filters_and_a_source_no_longer_in_the_config(config: Path, tmp_path: Path, database_url: str) -> None:
    assert [row["author"] for row in suspicious(config, "--rating", "1")] == ["Promo"]
    assert [row["author"] for row in suspicious(config, "--source", "closed-branch")] == ["Closed Spammer"]
    assert [row["author"] for row in suspicious(config, "--limit", "1")] == ["Closed Spammer"]
    write_config(tmp_path, database_url, [GOOGLE])  # the branch closed
    left = run_cli(config, "inbox", "--suspicious", "--format", "json")
    assert [row["author"] for row in json.loads(left.stdout)] == ["Coin Guy", "Promo"]
    assert "Left out: the reviews of closed-branch" in left.stderr


def test_the_table_shows_why_and_where_to_report(config: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    table = run_cli(config, "inbox", "--suspicious").output
    assert "why suspicious" in table and "report at" in table
    [crypto] = [line for line in table.splitlines() if "Coin Guy" in line]
    assert "reads like spam ('earn 500')" in crypto and "https://maps.example/reviews/crypto" in crypto
    monkeypatch.setenv("COLUMNS", "80")
    narrow = [line for line in run_cli(config, "inbox", "--suspicious").output.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in narrow) and len(narrow) == 2 + 3, narrow
    assert not any("https://maps.example/revi…" in line for line in narrow)  # a link is whole or left out


def test_status_belongs_to_the_reviews_that_need_an_answer(config: Path) -> None:
    refused = run_cli(config, "inbox", "--suspicious", "--status", "drafted")
    assert refused.exit_code == 2 and "--status" in refused.output
