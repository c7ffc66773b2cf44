"""The daily and weekly reports (figures, worst reviews, once per period and channel), the
`reviewmon alerts` commands, and the documentation of [alerts]."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from service.alerts import deliver, reports
from service.alerts.enqueue import insert_alerts, outbox_row
from service.alerts.messages import Message
from service.config import AlertChannelConfig, AlertsConfig
from tests.alert_helpers import (  # noqa: F401 (fixtures)
    ANGRY,
    HAPPY,
    SQLITE_ONLY,
    alerts,
    alerts_ctx_fixture,
    arrived,
    poll,
    review,
    smtp_fixture,
    webhook_fixture,
)
from tests.conftest import run_cli
from tests.paths import ROOT

MONDAY = datetime(2026, 11, 23, tzinfo=timezone.utc)  # reports for Sunday 22nd and ISO week 47 are due at 08:00
SUNDAY = "2026-11-22T{}:00:00+00:00"
ROWS = [
    review("s1", "Lovely food and friendly staff, we will be back.", 5, "Ana", SUNDAY.format(10)),
    review("s2", "Waited an hour, the food was cold and the waiter was rude.", 1, "Tom", SUNDAY.format(11)),
    review("s3", "Dirty tables and a rude manager. Never again.", 2, "Bo", SUNDAY.format(12)),
    review("s4", "<script>alert(1)</script> Terrible, disgusting and horrible {{ 7*7 }}", 1, "<b>Eve</b>",
           SUNDAY.format(13)),
    review("p1", "Good coffee, nice place.", 4, "Cy", "2026-11-21T09:00:00+00:00"),  # the previous day
    review("w1", "Slow service but the soup was decent, meh, not great.", 2, "Di", "2026-11-17T09:00:00+00:00"),
]
REPORTS = {"events": ["daily_report", "weekly_report"]}


@SQLITE_ONLY
def test_the_daily_report_has_the_figures_and_the_worst_reviews(alerts_ctx) -> None:
    ctx = alerts_ctx(ROWS)
    poll(ctx)
    message = reports.render_report(ctx, "daily", MONDAY + timedelta(hours=9))
    assert message.title == "Harbour Lane Bistro: daily review report, 2026-11-22"
    text = message.body
    assert re.search(r"Reviews\s+4\s+1\n", text)
    assert re.search(r"Average rating\s+2\.25★\s+4\.00★\n", text)
    assert re.search(r"Negative\s+75% \(3\)\s+0% \(0\)\n", text)
    worst = text[text.index("Worst reviews:"):]
    # lowest rating first, then the most negative text; the 5★ and the previous day's are not listed
    assert worst.index("by Tom") < worst.index("by Bo") and worst.index("by <b>Eve</b>") < worst.index("by Bo")
    assert "by Ana" not in worst and "by Cy" not in worst and "by Di" not in worst
    assert "<script>alert(1)</script> Terrible" in worst and "{{ 7*7 }}" in worst  # text, as written
    html = message.body_html
    assert "<script>" not in html and "<b>Eve" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Terrible" in html and "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "{{ 7*7 }}" in html and "2.25★" in html and "75% (3)" in html
    assert "/drafts/" in html and "reviewmon drafts show" in text

    weekly = reports.render_report(ctx, "weekly", MONDAY + timedelta(hours=9))
    assert weekly.title.endswith("week 47 of 2026 (2026-11-16 to 2026-11-22)")
    assert re.search(r"Reviews\s+6\s+0\n", weekly.body) and "by Di" in weekly.body


def test_periods_and_keys() -> None:
    daily = reports.last_period("daily", MONDAY + timedelta(hours=7), "08:00")
    assert (daily.start, daily.end, daily.key) == (MONDAY.date() - timedelta(days=1),) * 2 + ("report:daily:2026-11-22",)
    assert daily.due_at == MONDAY + timedelta(hours=8)
    weekly = reports.last_period("weekly", MONDAY + timedelta(days=3), "06:30")
    assert (weekly.start.isoformat(), weekly.end.isoformat(), weekly.key) == ("2026-11-16", "2026-11-22", "report:weekly:2026-W47")
    assert weekly.due_at == MONDAY + timedelta(hours=6, minutes=30)
    assert reports.last_period("weekly", datetime(2027, 1, 4, 9, tzinfo=timezone.utc), "08:00").key == "report:weekly:2026-W53"


def test_reports_are_recorded_once_when_due_and_sent_as_html_email(alerts_ctx, smtp, webhook, monkeypatch) -> None:
    monkeypatch.setenv("TEST_ALERTS_MAIL", smtp.url())
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    ctx = alerts_ctx(ROWS, {"name": "marketing", "url_env": "TEST_ALERTS_MAIL", **REPORTS},
                     {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["daily_report"], "digest": "1h"},
                     {"name": "owners", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]})
    poll(ctx)
    assert reports.enqueue_due_reports(ctx, MONDAY + timedelta(hours=7, minutes=59)) == 0
    assert reports.enqueue_due_reports(ctx, MONDAY + timedelta(hours=8)) == 3
    assert reports.enqueue_due_reports(ctx, MONDAY + timedelta(hours=12)) == 0
    assert {(a.channel, a.key) for a in alerts(ctx)} == {
        ("marketing", "report:daily:2026-11-22"), ("marketing", "report:weekly:2026-W47"),
        ("hook", "report:daily:2026-11-22")}
    assert reports.enqueue_due_reports(ctx, MONDAY + timedelta(days=1, hours=8)) == 2  # Tuesday: a new daily one
    ctx.clock = lambda: MONDAY + timedelta(days=1, hours=8)
    counts = deliver.deliver_due(ctx)
    assert (counts.sent, counts.failed) == (5, 0)  # a report is a digest already: not held by "digest"
    subjects = sorted(mail.subject for mail in smtp.mails)
    assert subjects == ["Harbour Lane Bistro: daily review report, 2026-11-22",
                        "Harbour Lane Bistro: daily review report, 2026-11-23",
                        "Harbour Lane Bistro: weekly review report, week 47 of 2026 (2026-11-16 to 2026-11-22)"]
    sunday = next(m for m in smtp.mails if m.subject.endswith("2026-11-22"))
    assert "<table" in sunday.html and "&lt;script&gt;" in sunday.html and "<script>" not in sunday.html
    assert "Average rating" in sunday.text
    assert sorted(p.body["title"] for p in webhook.posts) == subjects[:2]


def test_alert_commands(alerts_ctx, webhook, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEST_ALERTS_HOOK", webhook.url())
    monkeypatch.delenv("TEST_ALERTS_UNSET", raising=False)
    ctx = alerts_ctx([HAPPY], {"name": "hook", "url_env": "TEST_ALERTS_HOOK", "events": ["negative"]},
                     {"name": "broken", "url_env": "TEST_ALERTS_UNSET", "events": ["escalated"]})
    config = tmp_path / "config.toml"
    poll(ctx)
    arrived(ctx, poll(ctx, tmp_path, [HAPPY, ANGRY]))

    listed = run_cli(config, "alerts", "list", "--format", "json")
    assert listed.exit_code == 0
    [row] = json.loads(listed.output)
    assert (row["channel"], row["event"], row["status"], row["attempts"]) == ("hook", "negative", "pending", 0)
    assert row["key"] == f"review:{row['review_id']}"

    sent = run_cli(config, "alerts", "send")
    assert sent.exit_code == 0, sent.output
    assert "1 alerts sent in 1 messages" in sent.output and len(webhook.posts) == 1
    assert json.loads(run_cli(config, "alerts", "list", "--status", "sent", "--format", "json").output)[0]["id"] == row["id"]
    table = run_cli(config, "alerts", "list").output
    assert "hook" in table and "sent" in table

    tested = run_cli(config, "alerts", "test", "hook")
    assert tested.exit_code == 0 and webhook.posts[-1].body["title"] == "reviewmon test message"
    webhook.status = 500
    failed = run_cli(config, "alerts", "test", "hook")
    assert failed.exit_code == 1 and "hook: could not send" in failed.output and "500" in failed.output
    unset = run_cli(config, "alerts", "test", "broken")
    assert unset.exit_code == 2 and "TEST_ALERTS_UNSET is not set" in unset.output
    assert run_cli(config, "alerts", "test", "nosuch").exit_code == 1

    # an alert for the channel whose variable is unset: `alerts send` says so, exit 1
    with ctx.session() as session:
        insert_alerts(session, [outbox_row("broken", "escalated", "review:test", Message("t", "b"),
                                           datetime.now(timezone.utc))])
    failing = run_cli(config, "alerts", "send")
    assert failing.exit_code == 1 and "could not be sent" in failing.output

    text = run_cli(config, "alerts", "report", "--period", "weekly")
    assert text.exit_code == 0 and "weekly review report" in text.output and "Average rating" in text.output
    page = tmp_path / "report.html"
    wrote = run_cli(config, "alerts", "report", "--html", str(page))
    assert wrote.exit_code == 0 and "<table" in page.read_text(encoding="utf-8")




@pytest.mark.parametrize("model, section", [(AlertsConfig, "[alerts]"), (AlertChannelConfig, "[[alerts.channels]]")])
def test_alerts_config_is_documented(model, section) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert f"# {section}" in example
    for key in model.model_fields:
        if key == "channels":  # the [[alerts.channels]] tables
            continue
        assert f"{section} {key}" in readme, f"{section} {key} missing from README"
        assert re.search(rf"^#\s*{key}\s*=", example, re.MULTILINE), f"{key} missing from config.example.toml"


def test_commented_alerts_example_is_a_valid_config(tmp_path: Path) -> None:
    from service import config

    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    block = example[example.index("# [alerts]"):]
    block = block[: block.index("\n\n")] if "\n\n" in block else block
    body = "\n".join(line[2:] for line in block.splitlines() if re.match(r"# (\[|[a-z_]+ = )", line))
    body = re.sub(r"\s+#.*$", "", body, flags=re.MULTILINE)
    path = tmp_path / "config.toml"
    path.write_text('[business]\nname = "X"\ncontact = "x@x.example"\n\n' + body + "\n")
    loaded = config.load(path)
    assert loaded.alerts.channels and all(c.url_env for c in loaded.alerts.channels)
