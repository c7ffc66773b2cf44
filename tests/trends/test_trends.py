"""The marketers' numbers, on real databases: exact figures on a small hand-made set, the
bucket edges, the previous period, and the trend tables staying exact as reviews are
edited, removed, rescored and answered by every writer (poller, posting, approvals)."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, delete, select

from service import db
from service.config import DEFAULT_TOPICS
from service.desk import approvals, posting
from service.errors import NotFound
from service.models import (
    Draft,
    Review,
    Sentiment,
    Source,
    TrendDay,
    TrendDirty,
    TrendReview,
    TrendReviewTopic,
    TrendState,
    TrendTopicDay,
)
from service.polling import poll as poll_module
from service.trends import medians, periods, rollups, topics
from service.trends import reports as trend_reports
from tests.conftest import write_jsonl

UTC = timezone.utc
START, END = date(2026, 11, 2), date(2026, 11, 15)  # Monday to Sunday, two weeks
INGESTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Case:
    """One hand-made review and what happened to it."""

    key: str
    source: str
    rating: int | None
    negative: bool
    text: str
    created: datetime | None = None
    updated: datetime | None = None
    first_seen: datetime = INGESTED
    location: str | None = None
    owner_reply: str | None = None
    draft: str | None = None  # its draft's status
    reply_hours: float | None = None  # our reply posted this long after it was written
    removed: bool = False


CASES = [
    # the period, week of Monday 2 November
    Case("r1", "google", 1, True, "We waited an hour and the waiter was rude.", created=at(2), location="Old Town",
         draft="posted", reply_hours=2),
    Case("r2", "google", 5, False, "Lovely.", created=at(8, 23, 59, 59), location="Old Town", owner_reply="Thanks!"),
    # week of Monday 9 November
    Case("r3", "google", 2, True, "The bill was wrong.", created=at(9), location="Harbour", draft="posted", reply_hours=10),
    Case("r4", "app", None, True, "Crashes all the time, bugs everywhere", updated=at(10, 12), draft="outdated",
         reply_hours=5),  # no creation time: its last change counts
    Case("r5", "app", 4, False, "Works for me.", first_seen=at(15, 23)),  # no platform times at all
    Case("r6", "google", 3, True, "Dirty tables and cold food.", created=at(12, 10), location="Old Town", draft="approved"),
    Case("r7", "google", 1, True, "Awful.", created=at(13), location="Old Town", draft="posted", reply_hours=1,
         removed=True),  # gone from the platform: left out
    Case("r8", "google", 5, False, "Great.", created=at(16), location="Harbour"),  # the Monday after the period
    # the previous period, 19 October to 1 November
    Case("r9", "google", 2, True, "Waited forever.", created=at(1, 23, 59, 59), location="Old Town", draft="posted",
         reply_hours=1),
    Case("r10", "google", 4, False, "Nice view.", created=at(19, month=10), location="Harbour"),
    Case("r11", "google", 5, False, "Good.", created=at(18, 23, 59, 59, month=10), location="Old Town"),  # before both
]


def store(session: Session, cases: list[Case]) -> dict[str, int]:
    """Write the cases straight into the tables, as the poller would; returns key -> review id."""
    sources = {s.name: s.id for s in session.exec(select(Source))}
    ids = {}
    for case in cases:
        if case.source not in sources:
            source = Source(name=case.source, type="file", created_at=INGESTED)
            session.add(source)
            session.flush()
            sources[case.source] = source.id
        review = Review(
            source_id=sources[case.source], external_id=case.key, rating=case.rating, text=case.text, location=case.location,
            created_at=case.created, updated_at=case.updated, first_seen_at=case.first_seen, changed_at=case.first_seen,
            owner_reply=case.owner_reply, fingerprint=case.key, removed_at=INGESTED if case.removed else None,
        )
        session.add(review)
        session.flush()
        ids[case.key] = review.id
        session.add(Sentiment(review_id=review.id, negative=case.negative, reason="hand-made", scored_at=INGESTED))
        if case.draft:
            written = case.created or case.updated or case.first_seen
            posted = written + timedelta(hours=case.reply_hours) if case.reply_hours is not None else None
            session.add(Draft(review_id=review.id, status=case.draft, text="Sorry.", policy_ok=True, created_at=INGESTED,
                              updated_at=INGESTED, posted_at=posted))
    return ids


@pytest.fixture
def ctx(make_context):
    return make_context([])


@pytest.fixture
def cases(ctx) -> dict[str, int]:
    with ctx.session() as session:
        return store(session, CASES)


def report(ctx, **kwargs) -> trend_reports.TrendReport:
    kwargs = {"start": START, "end": END, "bucket": "week", **kwargs}
    with ctx.session() as session:
        return trend_reports.report(session, **kwargs)


def figures(reviews=0, rated=0, mean_rating=None, negative=0, negative_share=None, responded=0, response_rate=None,
            replies_timed=0, median_reply_hours=None) -> trend_reports.Figures:
    return trend_reports.Figures(reviews, rated, mean_rating, negative, negative_share, responded, response_rate, replies_timed,
                          median_reply_hours)


def test_the_period_in_figures(ctx, cases) -> None:
    r = report(ctx)
    # r1-r6: ratings 1, 5, 2, -, 4, 3; negative r1, r3, r4, r6; answered r1, r3, r4 (ours), r2 (on the
    # platform); our reply times 2 h, 10 h, 5 h
    assert r.totals == figures(reviews=6, rated=5, mean_rating=3.0, negative=4, negative_share=0.6667, responded=4,
                               response_rate=0.6667, replies_timed=3, median_reply_hours=5.0)
    assert r.ratings == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "none": 1}


def test_weeks_start_on_monday_at_midnight_utc(ctx, cases) -> None:
    r = report(ctx)
    assert [(b.bucket, b.start, b.end) for b in r.buckets] == [(date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 8)),
                                                             (date(2026, 11, 9), date(2026, 11, 9), date(2026, 11, 15))]
    # r1 (Monday 00:00) and r2 (Sunday 23:59:59); r3 (the next Monday 00:00), r4, r5 (Sunday 23:00), r6
    assert r.buckets[0].figures == figures(reviews=2, rated=2, mean_rating=3.0, negative=1, negative_share=0.5, responded=2,
                                           response_rate=1.0, replies_timed=1, median_reply_hours=2.0)
    assert r.buckets[1].figures == figures(reviews=4, rated=3, mean_rating=3.0, negative=3, negative_share=0.75, responded=2,
                                           response_rate=0.5, replies_timed=2, median_reply_hours=7.5)


def test_days_and_a_month_cut_short_by_the_period(ctx, cases) -> None:
    by_day = report(ctx, bucket="day")
    assert len(by_day.buckets) == 14
    assert {b.bucket.day: b.figures.reviews for b in by_day.buckets if b.figures.reviews} == {2: 1, 8: 1, 9: 1, 10: 1, 12: 1, 15: 1}
    assert by_day.buckets[3].figures == figures()  # 5 November: nothing written
    [month] = report(ctx, bucket="month").buckets
    assert (month.bucket, month.start, month.end) == (date(2026, 11, 1), START, END)
    assert month.figures == report(ctx).totals


def test_by_source_and_by_location_with_the_previous_period(ctx, cases) -> None:
    r = report(ctx)
    google, app = r.by_source
    assert (google.name, google.figures, google.previous) == (
        "google",
        figures(reviews=4, rated=4, mean_rating=2.75, negative=3, negative_share=0.75, responded=3, response_rate=0.75,
                replies_timed=2, median_reply_hours=6.0),
        figures(reviews=2, rated=2, mean_rating=3.0, negative=1, negative_share=0.5, responded=1, response_rate=0.5,
                replies_timed=1, median_reply_hours=1.0),
    )
    assert google.change == trend_reports.Change(reviews=2, reviews_relative=1.0, mean_rating=-0.25, negative_share=0.25,
                                          response_rate=0.25, median_reply_hours=5.0)
    assert (app.name, app.figures.reviews, app.figures.mean_rating, app.figures.median_reply_hours) == ("app", 2, 4.0, 5.0)
    assert app.previous == figures() and app.change.reviews_relative is None and app.change.mean_rating is None
    locations = {g.name: (g.figures.reviews, g.figures.negative, g.figures.median_reply_hours, g.previous.reviews) for g in r.by_location}
    assert locations == {"Old Town": (3, 2, 2.0, 1), "Harbour": (1, 1, 10.0, 1), None: (2, 1, 5.0, 0)}
    assert [g.name for g in r.by_location] == ["Old Town", None, "Harbour"]  # most reviews first


def test_the_previous_period_and_the_change(ctx, cases) -> None:
    r = report(ctx)
    assert (r.previous_start, r.previous_end) == (date(2026, 10, 19), date(2026, 11, 1))
    # r9 (1 November 23:59:59) and r10 (19 October 00:00); not r11 (18 October 23:59:59)
    assert r.previous == figures(reviews=2, rated=2, mean_rating=3.0, negative=1, negative_share=0.5, responded=1,
                                 response_rate=0.5, replies_timed=1, median_reply_hours=1.0)
    assert r.previous_ratings == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0, "none": 0}
    assert r.change == trend_reports.Change(reviews=4, reviews_relative=2.0, mean_rating=0.0, negative_share=0.1667,
                                     response_rate=0.1667, median_reply_hours=4.0)


def test_topics_behind_negative_reviews(ctx, cases) -> None:
    topics = {t.topic: (t.reviews, t.share, t.previous, t.change) for t in report(ctx).topics}
    # r1: wait time, staff; r3: billing; r4: crashes, bugs; r6: dirty, cold; before: r9 waited
    assert topics == {
        "food or product quality": (2, 0.5, 0, 2), "wait time": (1, 0.25, 1, 0), "staff": (1, 0.25, 0, 1),
        "cleanliness": (1, 0.25, 0, 1), "billing": (1, 0.25, 0, 1), "price": (0, 0.0, 0, 0), "delivery": (0, 0.0, 0, 0),
        "booking": (0, 0.0, 0, 0),
    }
    assert report(ctx).topics[0].topic == "food or product quality"


def test_filters_narrow_every_figure(ctx, cases) -> None:
    everything = report(ctx)
    google = report(ctx, source="google")
    assert google.totals == everything.by_source[0].figures and google.previous == everything.by_source[0].previous
    assert [g.name for g in google.by_source] == ["google"]
    old_town = report(ctx, location="Old Town")
    assert old_town.totals == next(g.figures for g in everything.by_location if g.name == "Old Town")
    assert {t.topic: t.reviews for t in old_town.topics if t.reviews} == {"wait time": 1, "staff": 1, "cleanliness": 1,
                                                                          "food or product quality": 1}
    both = report(ctx, source="app", location="Old Town")
    assert both.totals == figures() and both.by_source == []
    with pytest.raises(NotFound, match="no source named 'nope'"):
        report(ctx, source="nope")


def test_the_choices_a_dashboard_offers(ctx, cases) -> None:
    report(ctx)
    with ctx.session() as session:
        assert trend_reports.filter_choices(session) == {"sources": ["app", "google"], "locations": ["Harbour", "Old Town"]}


def test_your_own_topics(ctx, cases) -> None:
    mine = {"noise": ["loud*"], "mess": ["dirty", "wrong"], "apps": ["crash*"]}
    topics = {t.topic: t.reviews for t in report(ctx, topics=mine).topics}
    assert topics == {"mess": 2, "apps": 1, "noise": 0}  # r3 wrong, r6 dirty; r4 crashes
    assert {t.topic for t in report(ctx).topics} == set(DEFAULT_TOPICS)  # and back again


def test_no_reviews_at_all(ctx) -> None:
    r = report(ctx)
    assert r.totals == r.previous == figures()
    assert r.change == trend_reports.Change(0, None, None, None, None, None)
    assert [b.figures for b in r.buckets] == [figures(), figures()]
    assert r.by_source == r.by_location == []
    assert r.ratings == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "none": 0}
    assert all(t.reviews == 0 and t.share is None for t in r.topics)


def test_one_review(ctx) -> None:
    with ctx.session() as session:
        store(session, [Case("only", "google", 2, True, "Rude staff.", created=at(11, 18), location="Harbour",
                             draft="posted", reply_hours=1.5)])
    r = report(ctx, start=date(2026, 11, 11), end=date(2026, 11, 11), bucket="day")
    one = figures(reviews=1, rated=1, mean_rating=2.0, negative=1, negative_share=1.0, responded=1, response_rate=1.0,
                  replies_timed=1, median_reply_hours=1.5)
    assert r.totals == r.buckets[0].figures == r.by_source[0].figures == r.by_location[0].figures == one
    assert (r.previous_start, r.previous_end) == (date(2026, 11, 10), date(2026, 11, 10))
    assert {t.topic for t in r.topics if t.reviews} == {"staff"}


def test_months_are_calendar_months(ctx) -> None:
    with ctx.session() as session:
        store(session, [
            Case("oct", "google", 4, False, "a", created=at(31, 23, 59, 59, month=10)),
            Case("nov1", "google", 4, False, "b", created=at(1)),
            Case("nov30", "google", 4, False, "c", created=at(30, 23, 59, 59)),
            Case("dec", "google", 4, False, "d", created=at(1, month=12)),
            # 1 November 01:30 in Athens is 31 October 23:30 UTC
            Case("athens", "google", 4, False, "e", created=datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))),
        ])
    r = report(ctx, start=date(2026, 10, 15), end=date(2026, 12, 10), bucket="month")
    assert [(b.bucket, b.start, b.end, b.figures.reviews) for b in r.buckets] == [
        (date(2026, 10, 1), date(2026, 10, 15), date(2026, 10, 31), 2),
        (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 30), 2),
        (date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 10), 1),
    ]


def test_days_are_utc_whatever_the_database_session_thinks(database_url, cases, ctx) -> None:
    """PostgreSQL turns a timestamptz into a date in the session's time zone unless told otherwise."""
    expected = report(ctx)
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":  # 13 hours ahead of UTC in November
        url = url.update_query_dict({"options": f"{url.query.get('options', '')} -ctimezone=Pacific/Auckland"})
    engine = db.make_engine(url.render_as_string(hide_password=False))
    with ctx.session() as session:  # rebuild everything through that engine
        session.exec(delete(TrendReview))
        session.add_all([TrendDirty(review_id=i) for i in cases.values()])
    with db.session_scope(engine) as session:
        rebuilt_there = trend_reports.report(session, start=START, end=END)
    engine.dispose()
    assert rebuilt_there == expected


def test_json_ready(ctx, cases) -> None:
    data = json.loads(json.dumps(report(ctx).to_dict()))
    assert data["period"] == {"start": "2026-11-02", "end": "2026-11-15", "days": 14, "bucket": "week"}
    assert data["previous_period"] == {"start": "2026-10-19", "end": "2026-11-01"}
    assert data["buckets"][1]["bucket"] == "2026-11-09" and data["buckets"][1]["median_reply_hours"] == 7.5
    assert data["by_source"][0]["source"] == "google" and data["by_source"][0]["previous"]["reviews"] == 2
    assert data["by_location"][1]["location"] is None
    assert data["ratings"]["none"] == 1 and data["topics"][0]["topic"] == "food or product quality"
    assert any("left out of the median" in note for note in data["notes"])


def test_bad_periods_are_refused(ctx) -> None:
    with pytest.raises(ValueError, match="starts"):
        report(ctx, start=END, end=START)
    with pytest.raises(ValueError, match="bucket"):
        report(ctx, bucket="year")


# --- the trend tables stay exact -------------------------------------------------------------------


def rebuilt(ctx, **kwargs) -> trend_reports.TrendReport:
    """The report after throwing the trend tables away and building them from scratch."""
    with ctx.session() as session:
        for table in (TrendReview, TrendReviewTopic, TrendDay, TrendTopicDay, TrendState, TrendDirty):
            session.exec(delete(table))
        session.add_all([TrendDirty(review_id=i) for i in session.exec(select(Review.id))])
    return report(ctx, **kwargs)


def test_every_change_reaches_the_figures(ctx, cases) -> None:
    before = report(ctx)
    with ctx.session() as session:
        r1, r2, r3, r6 = (session.get(Review, cases[k]) for k in ("r1", "r2", "r3", "r6"))
        r2.created_at = at(9, 8)  # an edit moves it to the second week...
        r2.rating = 3  # ...with another rating
        r1.removed_at = INGESTED  # gone from the platform
        r3.location = "Old Town"
        session.get(Sentiment, cases["r6"]).negative = False  # scored again
        draft = session.exec(select(Draft).where(Draft.review_id == cases["r6"])).one()
        draft.status, draft.posted_at = "posted", r6.created_at + timedelta(hours=20)  # answered
        session.exec(delete(Draft).where(Draft.review_id == cases["r3"]))
        session.get(Review, cases["r7"]).removed_at = None  # listed again
    after = report(ctx)
    assert after != before
    assert after == rebuilt(ctx)
    assert [b.figures.reviews for b in after.buckets] == [0, 6]  # r2 moved, r1 removed, r7 back
    # negative: r3, r4, r7; answered: r2 (platform), r4, r6, r7 in 5, 20 and 1 hours
    assert after.totals == figures(reviews=6, rated=5, mean_rating=2.6, negative=3, negative_share=0.5, responded=4,
                                   response_rate=0.6667, replies_timed=3, median_reply_hours=5.0)
    assert {g.name: g.figures.reviews for g in after.by_location} == {"Old Town": 4, None: 2, "Harbour": 0}


def test_a_refresh_with_nothing_to_do_writes_nothing(ctx, cases) -> None:
    assert rollups.refresh(ctx.engine, DEFAULT_TOPICS).reviews == len(CASES)
    assert rollups.refresh(ctx.engine, DEFAULT_TOPICS) == rollups.RefreshCounts()
    assert rollups.refresh(ctx.engine, {"other": ["rude"]}).retagged


def test_many_changes_rebuild_everything_with_the_same_result(ctx, cases, monkeypatch) -> None:
    monkeypatch.setattr(rollups, "FULL_REBUILD_AT", 3)
    full = rebuilt(ctx)
    monkeypatch.setattr(rollups, "FULL_REBUILD_AT", 10_000)
    assert rebuilt(ctx) == full


def test_a_refresh_rebuilds_everything_when_most_reviews_changed_and_recomputes_a_few(ctx, cases, monkeypatch) -> None:
    monkeypatch.setattr(rollups, "CHUNK", 2)  # so that the handful of cases counts as many
    first = rollups.refresh(ctx.engine, DEFAULT_TOPICS)  # a first import: every review is new
    assert first.full and first.reviews == len(CASES)
    with ctx.session() as session:
        for key in ("r2", "r3"):
            session.get(Review, cases[key]).rating = 1
    some = rollups.refresh(ctx.engine, DEFAULT_TOPICS)
    assert (some.reviews, some.full) == (2, False)
    assert report(ctx) == rebuilt(ctx)


def test_the_change_notes_survive_every_migration(ctx) -> None:
    """A later SQLite migration that copies reviews, sentiments or drafts (batch mode) drops
    their triggers, and the trends would silently stop following changes: recreate them."""
    with ctx.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            names = set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
            expected = {f"trend_{t}_{e}" for t in ("reviews", "sentiments", "drafts") for e in ("insert", "update", "delete")}
        else:
            names = set(connection.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text IN ('reviews', 'sentiments', 'drafts')"
            ).scalars())
            expected = {f"trend_{t}_changed" for t in ("reviews", "sentiments", "drafts")}
    assert expected <= names


def test_through_the_real_writers(make_context, tmp_path: Path) -> None:
    """Poll a file, edit a review in it, drop one, approve and post a reply: the figures follow."""
    rows = [
        {"id": "a", "text": "Waited an hour, the soup was cold.", "rating": 1, "created_at": "2026-11-03T10:00:00+00:00",
         "location": "Old Town"},
        {"id": "b", "text": "Lovely staff, great chowder.", "rating": 5, "created_at": "2026-11-04T10:00:00+00:00"},
        {"id": "c", "text": "The bill was wrong and nobody cared.", "rating": 2, "created_at": "2026-11-10T10:00:00+00:00"},
    ]
    write_jsonl(tmp_path / "reviews.jsonl", rows)
    ctx = make_context([{"name": "site", "type": "file", "path": "reviews.jsonl"}])
    asyncio.run(poll_module.poll(ctx))
    first = report(ctx)
    assert (first.totals.reviews, first.totals.negative, [b.figures.reviews for b in first.buckets]) == (3, 2, [2, 1])
    assert {t.topic for t in first.topics if t.reviews} == {"wait time", "food or product quality", "billing"}

    rows[1] = {**rows[1], "text": "Rude staff, dirty tables.", "rating": 1}  # edited: now negative
    write_jsonl(tmp_path / "reviews.jsonl", rows)
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:  # a complete listing without c, as a platform connector reports it
        [source_id] = session.exec(select(Source.id)).all()
        poll_module._mark_removed(session, source_id, {"a", "b"}, INGESTED)
        [draft_id] = session.exec(select(Draft.id).join(Review).where(Review.external_id == "a")).all()
        seen = session.exec(select(Review).where(Review.external_id == "a")).one()
        seen.first_seen_at = at(3, 10)  # seen as it was written, so its cooling-off is over by 16:00
        session.add(seen)
        session.commit()
    approvals.approve(ctx, draft_id, actor="maria")
    ctx.clock = lambda: at(3, 16)  # posted six hours after it was written
    posting.mark_posted(ctx, draft_id, actor="maria")

    second = report(ctx)
    assert (second.totals.reviews, second.totals.negative, second.totals.responded) == (2, 2, 1)
    assert second.totals.median_reply_hours == 6.0 and second.buckets[1].figures.reviews == 0
    assert {t.topic: t.reviews for t in second.topics if t.reviews} == {"wait time": 1, "food or product quality": 1,
                                                                       "staff": 1, "cleanliness": 1}
    assert second == rebuilt(ctx)


# --- the pieces, without a database ----------------------------------------------------------------


def test_default_period_is_the_last_twelve_buckets() -> None:
    monday = date(2026, 11, 23)
    assert periods.default_start(monday, "week") == date(2026, 9, 7)
    assert periods.default_start(date(2026, 11, 29), "week") == date(2026, 9, 7)  # that Sunday too
    assert periods.default_start(monday, "month") == date(2025, 12, 1)
    assert periods.default_start(monday, "day") == date(2026, 11, 12)
    assert len(periods.buckets_of(date(2026, 9, 7), monday, "week")) == 12


def test_topic_keywords_follow_the_escalation_rules() -> None:
    matcher = topics.TopicMatcher({"wait": ["wait", "queue*", "took ages"], "app": ["a&e", "log-in*"], "all": ["*"], "none": []})
    assert matcher.topics("WAIT!") == ["wait", "all"]
    assert matcher.topics("the waiter was rude") == ["all"]  # whole words only
    assert matcher.topics("queueing", None) == ["wait", "all"]
    assert matcher.topics("it Took   ages") == ["wait", "all"]
    assert matcher.topics("took", "ages") == ["wait", "all"]  # title and text read as one
    assert matcher.topics("Ｗａｉｔ") == ["wait", "all"]  # full-width letters fold
    assert matcher.topics("sent to A&E", "log-ins fail") == ["app", "all"]
    assert matcher.topics("") == ["all"]  # a lone * matches anything, as in [escalation]


def test_topic_matching_agrees_with_the_plain_expressions() -> None:
    from service.reading import marks

    lexicon = {**DEFAULT_TOPICS, "odd": ["rip-off*", "x_y", "  Spaced  Out "]}
    matcher = topics.TopicMatcher(lexicon)
    rng = random.Random(4)
    vocabulary = [w for words in lexicon.values() for k in words for w in k.rstrip("*").split()] + [
        "the", "waiters", "billed,", "queueing", "Ünïcode", "rip-offs", "x_y", "spaced\tout", "-", "&", "ages."]
    for _ in range(2000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12)))
        body = marks._fold(text)
        expected = [t for t, words in lexicon.items() if any(marks._keyword_pattern(w).search(body) for w in words)]
        assert matcher.topics(text) == expected, text


def test_medians_of_sorted_lists() -> None:
    rng = random.Random(9)
    for _ in range(300):
        lists = [sorted(rng.randint(-50, 500) for _ in range(rng.randint(0, 9))) for _ in range(rng.randint(1, 6))]
        values = [v for values in lists for v in values]
        assert medians.median(lists) == (statistics.median(values) if values else None), lists
    assert list(rollups.unpack_seconds(rollups.pack_seconds([30, -5, 7_200]))) == [-5, 30, 7_200]
