"""The daily and weekly reports for marketers: the period's figures and its worst reviews.

A report covers the last complete period before `now` (yesterday; last week, Monday to
Sunday, UTC) and is due from [alerts] report_at (UTC) on the day after it ends (weekly:
on the Monday). `enqueue_due_reports` records it in the outbox once per channel, keyed
by its period (report:daily:2026-11-22, report:weekly:2026-W47), so every process may
ask as often as it likes; a report is not sent late for a period before that.

The figures are service.trends.reports.report()'s, the same as `reviewmon trends` and the
dashboard show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.alerts.enqueue import insert_alerts, outbox_row, subscribers
from service.alerts.messages import (
    Message,
    one_line,
    plain,
    render_html,
    reply_pointer,
    stars,
    when,
)
from service.context import Context
from service.desk import queries
from service.models import Alert, Draft, Review, Sentiment, Source, TrendReview
from service.trends import reports as trend_reports

Period = Literal["daily", "weekly"]
PERIODS: tuple[str, ...] = ("daily", "weekly")
WORST = 5  # reviews listed
WORST_TEXT = 300  # characters of each


@dataclass(frozen=True)
class ReportPeriod:
    period: str
    start: date
    end: date  # included
    due_at: datetime  # when it goes out
    key: str  # the outbox key: one report per period and channel

    @property
    def label(self) -> str:
        if self.period == "daily":
            return self.start.isoformat()
        year, week, _ = self.start.isocalendar()
        return f"week {week} of {year} ({self.start.isoformat()} to {self.end.isoformat()})"


def last_period(period: str, now: datetime, report_at: str) -> ReportPeriod:
    """The last complete day or ISO week (Monday to Sunday) before `now`, in UTC."""
    today = now.astimezone(timezone.utc).date()
    at = time.fromisoformat(report_at).replace(tzinfo=timezone.utc)
    if period == "daily":
        start = today - timedelta(days=1)
        return ReportPeriod("daily", start, start, datetime.combine(today, at), f"report:daily:{start.isoformat()}")
    if period == "weekly":
        monday = today - timedelta(days=today.weekday())
        start = monday - timedelta(days=7)
        year, week, _ = start.isocalendar()
        return ReportPeriod("weekly", start, monday - timedelta(days=1), datetime.combine(monday, at),
                            f"report:weekly:{year}-W{week:02d}")
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


@dataclass(frozen=True)
class WorstReview:
    review_id: int
    source: str
    rating: int | None
    compound: float | None
    author: str | None
    written_at: datetime | None
    text: str
    escalation: str | None
    draft_id: int | None


def worst_reviews(session: Session, start: date, end: date, limit: int = WORST,
                  leave_out: list[str] | tuple[str, ...] = ()) -> list[WorstReview]:
    """The period's negative reviews, lowest rating first, then the most negative text.
    Reads trend_reviews (up to date after trend_reports.report()), so removed reviews are
    out; so are the sources in `leave_out` (no longer in the config)."""
    rows = session.exec(
        select(Review, Sentiment.compound, Source.name, Draft.id)
        .join(TrendReview, TrendReview.review_id == Review.id)
        .join(Source, Source.id == Review.source_id)
        .outerjoin(Sentiment, Sentiment.review_id == Review.id)
        .outerjoin(Draft, Draft.review_id == Review.id)
        .where(TrendReview.day >= start, TrendReview.day <= end, col(TrendReview.negative).is_(True),
               col(Source.name).not_in(list(leave_out)))
        .order_by(func.coalesce(Review.rating, 3), func.coalesce(Sentiment.compound, 0), Review.id)
        .limit(limit)
    ).all()
    return [
        WorstReview(review.id, source, review.rating, compound, review.author,
                    review.written, review.text, review.escalation,
                    draft_id)
        for review, compound, source, draft_id in rows
    ]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _number(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.2f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _figures(figures: trend_reports.Figures) -> dict[str, str]:
    return {
        "reviews": str(figures.reviews),
        "mean_rating": _number(figures.mean_rating, "★"),
        "negative": f"{_percent(figures.negative_share)} ({figures.negative})",
        "response_rate": _percent(figures.response_rate),
        "median_reply": _number(figures.median_reply_hours, " h"),
    }


FIGURE_NAMES = {"reviews": "Reviews", "mean_rating": "Average rating", "negative": "Negative",
                "response_rate": "Answered", "median_reply": "Median reply time"}


def render_report(ctx: Context, period: str, now: datetime) -> Message:
    """The report of the last complete period before `now` (see last_period)."""
    return _render(ctx, last_period(period, now, ctx.config.alerts.report_at))


def _render(ctx: Context, due: ReportPeriod) -> Message:
    with ctx.session() as session:
        left_out = queries.removed_sources(session, ctx.config)
        report = trend_reports.report(session, start=due.start, end=due.end, bucket="day",
                                      topics=ctx.config.topics.keywords, leave_out=left_out)
        worst = worst_reviews(session, due.start, due.end, leave_out=left_out)
    business = ctx.config.business.name
    title = f"{business}: {due.period} review report, {due.label}"
    now_figures, then_figures = _figures(report.totals), _figures(report.previous)
    topics = [t for t in report.topics if t.reviews][:5]
    sources = [(g.name, _figures(g.figures)) for g in report.by_source if g.figures.reviews]
    context: dict[str, Any] = {
        "title": title, "period": due, "report": report, "now": now_figures, "then": then_figures,
        "names": FIGURE_NAMES, "topics": topics, "sources": sources, "worst": worst, "text_limit": WORST_TEXT,
        "reply_pointer": reply_pointer,
    }
    return Message(title=title, body=_text(context), body_html=render_html("report.html", **context))


def _text(c: dict[str, Any]) -> str:
    period: ReportPeriod = c["period"]
    previous = "previous day" if period.period == "daily" else "previous week"
    lines = [c["title"], "", f"{'Figure':<18} {'this period':>14} {previous:>14}"]
    lines += [f"{name:<18} {c['now'][key]:>14} {c['then'][key]:>14}" for key, name in c["names"].items()]
    if c["topics"]:
        lines += ["", "Topics of negative reviews: " + ", ".join(f"{t.topic} ({t.reviews})" for t in c["topics"])]
    if c["sources"]:
        lines += ["", "By source:"]
        lines += [f"  {name}: {f['reviews']} reviews, {f['mean_rating']}, negative {f['negative']}"
                  for name, f in c["sources"]]
    lines += ["", "Worst reviews:" if c["worst"] else "No negative reviews in this period."]
    for n, review in enumerate(c["worst"], start=1):
        who = one_line(review.author or "anonymous", 40)
        lines += [
            f"{n}. {stars(review.rating)} by {who} on {review.source}, {when(review.written_at)}"
            + (f" – escalated: {one_line(review.escalation, 80)}" if review.escalation else ""),
            "   " + plain(review.text, WORST_TEXT).replace("\n", "\n   "),
            f"   Reply: {reply_pointer(review.review_id, review.draft_id)}",
        ]
    lines += ["", "Days are UTC. The same figures, over any period: `reviewmon trends` or the dashboard (/trends)."]
    return "\n".join(lines)


def enqueue_due_reports(ctx: Context, now: datetime) -> int:
    """Record the reports that are due and not yet recorded, one per subscribing channel;
    returns how many outbox rows were added."""
    added = 0
    for period in PERIODS:
        channels = subscribers(ctx.config, f"{period}_report")
        if not channels:
            continue
        due = last_period(period, now, ctx.config.alerts.report_at)
        if now < due.due_at:
            continue
        with ctx.session() as session:
            have = set(session.exec(select(Alert.channel).where(Alert.key == due.key)).all())
        missing = [channel for channel in channels if channel not in have]
        if not missing:
            continue
        message = _render(ctx, due)
        with ctx.session() as session:
            added += insert_alerts(session, [outbox_row(c, f"{period}_report", due.key, message, now) for c in missing])
    return added
