"""From the demo to your own business (issue 19): the README's steps give an owner a
database of their own, and a source that is no longer in the config (the demo's bistro)
stays out of the inbox, the trends and the reports until `reviewmon sources purge`
deletes it."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from service import config as config_module
from service.alerts import reports as alert_reports
from service.context import Context
from tests.conftest import run_cli, write_jsonl
from tests.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SAMPLE_SOURCE = '[[sources]]\nname = "sample"\ntype = "sample"\nschedule = "1h"\n'
OWN_DATABASE = 'url = "sqlite:///reviewmon.db"'


def own_reviews(folder: Path) -> Path:
    now = datetime.now(timezone.utc)
    return write_jsonl(folder / "our-reviews.jsonl", [
        {"id": "o1", "text": "Cold chips and a rude welcome. Never again.", "rating": 1,
         "created_at": (now - timedelta(days=2)).isoformat()},
        {"id": "o2", "text": "Lovely crab, friendly staff.", "rating": 5, "created_at": (now - timedelta(days=1)).isoformat()},
    ])


def own_config(example: str, *, database: str | None) -> str:
    """config.example.toml edited as the README's first step says: our business, our
    source instead of the sample, and (unless `database` is None) our own database."""
    assert SAMPLE_SOURCE in example
    text = example.replace(SAMPLE_SOURCE, '[[sources]]\nname = "ours"\ntype = "file"\npath = "our-reviews.jsonl"\n')
    text = text.replace('name = "Harbour Lane Bistro"', 'name = "Crab Shack"')
    text = text.replace('contact = "hello@harbourlane.example"', 'contact = "hello@crabshack.example"')
    if database:
        text = re.sub(r'^url = "sqlite:///demo.db"$', database, text, flags=re.MULTILINE)
    return text


def cli_json(config: Path, *args: str):
    result = run_cli(config, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def demo_polled(folder: Path) -> Path:
    example = folder / "config.example.toml"
    shutil.copy(ROOT / "config.example.toml", example)
    for step in ("migrate", "poll"):
        assert run_cli(example, step).exit_code == 0
    assert cli_json(example, "inbox"), "the demo has reviews waiting for an answer"
    return example


def sources_seen(config: Path) -> dict[str, set[str]]:
    trends = cli_json(config, "trends")
    return {"inbox": {row["source"] for row in cli_json(config, "inbox")},
            "trends": {group["source"] for group in trends["by_source"]},
            "notes": set(trends["notes"])}


def test_the_readme_steps_after_the_demo_give_an_inbox_and_trends_without_the_demo(tmp_path) -> None:
    for step in ("cp config.example.toml config.toml", OWN_DATABASE, "make run CONFIG=config.toml",
                 ".venv/bin/reviewmon users first-owner owner"):
        assert step in README, step
    example = demo_polled(tmp_path)
    own_reviews(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(own_config(example.read_text(encoding="utf-8"), database=OWN_DATABASE), encoding="utf-8")
    for step in (("migrate",), ("poll",), ("users", "first-owner", "owner")):
        assert run_cli(config, *step).exit_code == 0, step
    seen = sources_seen(config)
    assert seen["inbox"] == {"ours"} and seen["trends"] == {"ours"}
    assert not any("Left out" in note for note in seen["notes"])  # nothing to leave out: a database of its own
    assert (tmp_path / "demo.db").exists() and (tmp_path / "reviewmon.db").exists()


def test_a_source_out_of_the_config_is_left_out_saying_so_until_purged(tmp_path) -> None:
    example = demo_polled(tmp_path)
    own_reviews(tmp_path)
    config = tmp_path / "config.toml"  # the same database as the demo: the step forgotten
    config.write_text(own_config(example.read_text(encoding="utf-8"), database=None), encoding="utf-8")
    assert run_cli(config, "poll").exit_code == 0

    seen = sources_seen(config)
    assert seen["inbox"] == {"ours"} and seen["trends"] == {"ours"}
    assert any("Left out: the reviews of sample" in note for note in seen["notes"])
    assert "Left out: the reviews of sample" in run_cli(config, "inbox").stderr
    sample = next(row for row in cli_json(config, "sources") if row["name"] == "sample")
    assert any("no longer in the config" in warning for warning in sample["warnings"])
    ctx = Context.open(config_module.load(config))
    try:
        report = alert_reports.render_report(ctx, "weekly", datetime.now(timezone.utc) + timedelta(days=7))
    finally:
        ctx.close()
    assert "sample" not in report.body and "Crab Shack" in report.title

    unasked = run_cli(config, "sources", "purge", "sample")
    assert unasked.exit_code == 2 and "--yes" in unasked.output
    still_there = run_cli(config, "sources", "purge", "ours", "--yes")
    assert still_there.exit_code != 0 and "still in the config" in still_there.output
    purged = run_cli(config, "sources", "purge", "sample", "--yes")
    assert purged.exit_code == 0 and re.search(r"deleted source 'sample': \d+ reviews", purged.output)
    assert {row["source"] for row in cli_json(config, "reviews", "list")} == {"ours"}
    assert "sample" not in {row["name"] for row in cli_json(config, "sources")}
    assert not any("Left out" in note for note in sources_seen(config)["notes"])
    assert run_cli(config, "poll").exit_code == 0  # and the database still works
