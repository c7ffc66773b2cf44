"""Store one page of reviews from a connector: upsert, revisions, sentiment, drafts.

`ingest_page` is called inside the transaction that also saves the source's cursor, so
a page and the cursor that covers it land together or not at all. For each review:

    new                                  -> insert, score, draft if negative and unanswered
    seen before, nothing changed         -> no write at all
    text, title or rating changed        -> keep the old version as a revision, update, score again,
                                            draft if it is now negative, unanswered and has none;
                                            a reply we already posted is marked outdated
    only other fields changed            -> update them (author, url, owner reply, ...); an owner
                                            reply that matches the reply we posted confirms it,
                                            and its moderation state is noted on our draft
                                            (service/polling/posted.py)
    marked removed earlier, listed again -> no longer removed

Writes are batched per page (one statement per table), which is what keeps a large
import close to the speed of scoring the texts.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

import connectors
from connectors.base import Capabilities, ReviewData
from service.models import SYSTEM_ACTOR, Draft, DraftEvent, DraftStatus, Review, ReviewRevision, Sentiment, Source
from service.polling.posted import follow_posted_replies
from service.reading import marks
from service.reading.scoring_pool import Item, Scores, ScoringPool
from service.reading.sentiment import SentimentScorer, scorer_of
from service.replies.drafter import DraftRequest, ReplyDrafter, drafter_of

if TYPE_CHECKING:
    from service.context import Context

# Bulk inserts go to the tables (SQLAlchemy Core), not the ORM classes: the ORM's bulk
# path costs as much again per row, and these rows are never loaded as objects here.
REVIEWS, SENTIMENTS, DRAFTS, DRAFT_EVENTS = (model.__table__ for model in (Review, Sentiment, Draft, DraftEvent))
_MISSING = object()
AHEAD_KEPT = 5000  # texts read ahead and not yet prepared for storing; the oldest beyond this are dropped
IN_CHUNK = 5000  # values per IN (...): bounds a statement's parameters


@dataclass
class PageCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    drafted: int = 0

    def add(self, other: PageCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.drafted += other.drafted


@dataclass(frozen=True)
class SourceInfo:
    """What ingest needs to know about the source a page came from."""

    id: int
    name: str
    location: str | None
    capabilities: Capabilities


def _row(review: ReviewData, source: SourceInfo) -> dict[str, Any]:
    row = {
        "external_id": review.external_id,
        "rating": review.rating,
        "title": review.title,
        "text": review.text,
        "author": review.author,
        "location": review.location or source.location,
        "created_at": review.created_at,
        "updated_at": review.updated_at,
        "url": review.url,
        "owner_reply": review.owner_reply,
        "excerpt": review.excerpt,
        "language": review.language,
        "translation": review.translation,
        "owner_reply_state": review.owner_reply_state,
    }
    # The reply state joined later: left out while None, the reviews stored before keep their fingerprints
    row["fingerprint"] = _fingerprint({k: v for k, v in row.items() if v is not None or k != "owner_reply_state"})
    row["raw"] = review.raw
    row["source_id"] = source.id  # not in the fingerprint: it is part of the key
    return row


def _item(row: dict[str, Any]) -> Item:
    """What the scoring helpers read of a review row."""
    return row["text"], row["title"], row["rating"], row["translation"]


def _score_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return ("score", *_item(row))


def _chunks(values: list[Any]) -> Any:
    return (values[start:start + IN_CHUNK] for start in range(0, len(values), IN_CHUNK))


def _marks_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return ("marks", row["text"], row["title"], row["translation"])


def _fingerprint(row: dict[str, Any]) -> str:
    canonical = json.dumps(row, sort_keys=True, default=lambda v: v.isoformat(), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _content_changed(old: Review, new: dict[str, Any]) -> bool:
    return (old.text, old.title, old.rating) != (new["text"], new["title"], new["rating"])


Key = tuple[int, str]  # (source id, the platform's review id)


def _review_ids(session: Session, source_ids: set[int], external_ids: list[str]) -> dict[Key, int]:
    ids = {}
    for chunk in _chunks(external_ids):
        for review_id, source_id, external_id in session.exec(select(Review.id, Review.source_id, Review.external_id).where(
                col(Review.source_id).in_(source_ids), col(Review.external_id).in_(chunk))):
            ids[(source_id, external_id)] = review_id
    return ids


@dataclass(frozen=True)
class _Later:
    """A verdict or the text marks, which the scoring helpers are still working out."""

    scores: Scores
    index: int
    part: int  # 0: the verdict, 1: the text marks


class PageIngester:
    """Holds the per-process pieces (scorer, drafter, escalation words) and stores pages
    with them. `ingest_many` stores the pages of several sources with one set of
    statements: a poll of hundreds of sources hands it a batch at a time."""

    def __init__(self, scorer: SentimentScorer, drafter: ReplyDrafter, escalation_words: dict[str, list[str]] | None = None):
        self.scorer = scorer
        self.drafter = drafter
        self.escalation_words = escalation_words or {}
        self.pool = ScoringPool(scorer, self.escalation_words)  # big batches are read on every core
        self._ready: dict[tuple[Any, ...], Any] = {}  # worked out by `prepare`, taken by ingest
        self._ahead: OrderedDict[Item, tuple[Scores, int]] = OrderedDict()  # sent by `read_ahead`, taken by `prepare`
        self._ahead_lock = threading.Lock()  # read_ahead runs on the poller's event loop, prepare on its database thread

    def read_ahead(self, reviews: list[ReviewData]) -> None:
        """Send a page's texts to the scoring helpers as soon as it is read, while the
        page before it is still being written; `prepare` then finds them read. Only while
        a big import has the helpers running: a poll of unchanged pages never starts them,
        so it never pays for reading texts it will not store."""
        items = list(dict.fromkeys((review.text, review.title, review.rating, review.translation) for review in reviews))
        readings = self.pool.send(items)
        if readings is None:
            return
        with self._ahead_lock:
            for index, item in enumerate(items):
                self._ahead[item] = (readings, index)
            while len(self._ahead) > AHEAD_KEPT:
                self._ahead.popitem(last=False)

    def prepare(self, session: Session, pages: list[tuple[SourceInfo, list[ReviewData]]]) -> None:
        """Work out, before the write transaction, what the pages' new and changed reviews
        will need: their scores and escalation marks. That is most of the CPU of storing
        a page, and pure: done outside the write lock, it lets another process write
        meanwhile; a big batch is scored by helper processes while this one writes the
        reviews (service/reading/scoring_pool.py). `ingest_many` takes what is ready and works
        out itself anything that is not (a review that changed in between)."""
        self._ready = {}
        rows = {(source.id, review.external_id): (source, self._page_row(review, source, keep=True))
                for source, reviews in pages for review in reviews}
        if not rows:
            return
        known = set(session.exec(select(Review.source_id, Review.external_id, Review.fingerprint).where(
            col(Review.source_id).in_({source.id for source, _ in pages}),
            col(Review.external_id).in_(list({external_id for _, external_id in rows})))).all())
        needing = [(source, row) for (source_id, external_id), (source, row) in rows.items()
                   if (source_id, external_id, row["fingerprint"]) not in known]  # unchanged: nothing to work out
        items = [_item(row) for _, row in needing]
        with self._ahead_lock:
            sent = [self._ahead.pop(item, None) for item in items]
        unsent = [item for item, ahead in zip(items, sent) if ahead is None]
        readings = self.pool.submit(unsent) if unsent else None
        position = 0  # in unsent
        for (_source, row), ahead in zip(needing, sent):  # the helpers read them meanwhile
            if ahead is None:
                ahead, position = (readings, position), position + 1
            self._ready[_score_key(row)] = _Later(*ahead, 0)
            self._ready[_marks_key(row)] = _Later(*ahead, 1)

    def _ready_or(self, key: tuple[Any, ...], compute: Any, *, keep: bool) -> Any:
        """What `prepare` worked out for `key` (taken: used once), else compute it now;
        `keep` (prepare itself) stores it for ingest."""
        if keep:
            if key not in self._ready:
                self._ready[key] = compute()
            return self._ready[key]
        value = self._ready.pop(key, _MISSING)
        if isinstance(value, _Later):
            reading = value.scores.get(value.index)  # None if a helper failed: then work it out here
            return compute() if reading is None else reading[value.part]
        return compute() if value is _MISSING else value

    def _page_row(self, review: ReviewData, source: SourceInfo, *, keep: bool = False) -> dict[str, Any]:
        # keyed by the object too: a platform may repeat a review id on one page, with other content
        return self._ready_or(("row", source.id, review.external_id, id(review)), lambda: _row(review, source), keep=keep)

    def _text_marks(self, row: dict[str, Any], *, keep: bool = False) -> marks.TextMarks:
        """(text hash, escalation, triage unless it is a copy): the marks read from the text alone."""
        return self._ready_or(_marks_key(row), lambda: marks.read(row["text"], row["title"], self.escalation_words,
                                                                  row["translation"]), keep=keep)

    def _verdict(self, row: dict[str, Any], *, keep: bool = False) -> Any:
        return self._ready_or(_score_key(row),
                              lambda: self.scorer.score(text=row["text"], title=row["title"], rating=row["rating"],
                                                        translation=row["translation"]), keep=keep)

    def _reply(self, source: SourceInfo, row: dict[str, Any]) -> Any:
        # drafts are cached by their inputs (service/replies/drafter.py)
        return self.drafter.draft(DraftRequest.for_review(
            source=source.name, external_id=row["external_id"], author=row["author"], rating=row["rating"],
            title=row["title"], text=row["text"] or row["translation"], escalation=row.get("escalation"),
            detected_language=self._verdict(row).language, capabilities=source.capabilities))

    def _marks(self, session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, Key]]:
        """Set escalation and triage marks on new or edited rows before they are written
        (service/reading/marks.py). Returns (earlier review id, row's key) pairs whose earlier
        copy should be marked too, once the new row has its id."""
        plain_triage = []
        for row in rows:
            row["text_hash"], row["escalation"], triage = self._text_marks(row)
            plain_triage.append(triage)
        hashes = {row["text_hash"] for row in rows if row["text_hash"]}
        known: dict[str, list[tuple[int, str | None]]] = {}  # text hash -> (first review id, author) per author
        if hashes:  # one row per author and text, however often a text was posted
            for review_id, digest, author in session.exec(
                select(func.min(Review.id), Review.text_hash, Review.author)
                .where(col(Review.text_hash).in_(hashes)).group_by(Review.text_hash, Review.author)
            ):
                known.setdefault(digest, []).append((review_id, author))
        earlier = []
        for row, triage in zip(rows, plain_triage, strict=True):
            twins = [i for i, author in known.get(row["text_hash"], []) if author != row["author"]]
            first = min(twins) if twins else None
            row["triage"] = triage if first is None else marks.triage(row["text"], row["title"], duplicate_of=first)
            if first is not None:
                earlier.append((first, (row["source_id"], row["external_id"])))
        return earlier

    @staticmethod
    def _mark_copies_within(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> None:
        """The same text from different reviewers in one batch (a burst of fakes)."""
        groups: dict[str, list[tuple[int, str | None]]] = {}
        for review_id, row in rows:
            if row["text_hash"]:
                groups.setdefault(row["text_hash"], []).append((review_id, row["author"]))
        for members in groups.values():
            if len({author for _, author in members}) < 2:
                continue
            for review_id, author in members:
                other = min(i for i, a in members if a != author)
                session.exec(update(Review).where(Review.id == review_id)
                             .values(triage=f"the same text as review {other} by another reviewer"))

    @staticmethod
    def _mark_earlier_copies(session: Session, earlier: list[tuple[int, Key]]) -> None:
        """Mark the first copy of a text another reviewer posted again, unless it is marked
        already (a text posted a thousand times is marked once, not looked up each time)."""
        unmarked = set(session.exec(select(Review.id).where(col(Review.id).in_({first for first, _ in earlier}),
                                                            col(Review.triage).is_(None)))) if earlier else set()
        for first, (source_id, external_id) in earlier:
            if first not in unmarked:
                continue
            unmarked.discard(first)
            copy_id = session.exec(select(Review.id).where(Review.source_id == source_id, Review.external_id == external_id)).one()
            session.exec(update(Review).where(Review.id == first).values(triage=f"the same text as review {copy_id} by another reviewer"))

    def ingest(self, session: Session, source: SourceInfo, reviews: list[ReviewData], now: datetime) -> PageCounts:
        """One page of one source."""
        return self.ingest_many(session, [(source, reviews)], now)[source.id]

    def ingest_many(self, session: Session, pages: list[tuple[SourceInfo, list[ReviewData]]], now: datetime) -> dict[int, PageCounts]:
        """Pages of different sources (at most one per source); counts by source id."""
        infos = {source.id: source for source, _ in pages}
        if len(infos) != len(pages):
            raise ValueError("ingest_many takes at most one page per source")
        counts = {source_id: PageCounts() for source_id in infos}
        rows: dict[Key, dict[str, Any]] = {}
        for source, reviews in pages:
            for review in reviews:  # a platform repeating a review on one page: the last copy wins
                rows[(source.id, review.external_id)] = self._page_row(review, source)
        if not rows:
            return counts
        existing: dict[Key, tuple[int, str, datetime | None]] = {}
        external_ids = list({external_id for _, external_id in rows})
        for chunk in _chunks(external_ids):
            for review_id, source_id, external_id, fingerprint, removed_at in session.exec(
                select(Review.id, Review.source_id, Review.external_id, Review.fingerprint, Review.removed_at).where(
                    col(Review.source_id).in_(list(infos)), col(Review.external_id).in_(chunk)
                )
            ):
                if (source_id, external_id) in rows:
                    existing[(source_id, external_id)] = (review_id, fingerprint, removed_at)
        fresh = [row for key, row in rows.items() if key not in existing]
        changed = {existing[key][0]: row for key, row in rows.items() if key in existing and existing[key][1] != row["fingerprint"]}
        for row in fresh:
            counts[row["source_id"]].inserted += 1
        for row in changed.values():
            counts[row["source_id"]].updated += 1
        for key in rows:
            if key in existing and existing[key][0] not in changed:
                counts[key[0]].unchanged += 1
        back = [existing[key][0] for key in rows if key in existing and existing[key][2] is not None]
        if back:
            session.exec(update(Review).where(col(Review.id).in_(back)).values(removed_at=None))
        drafted: list[int] = []
        if fresh:
            drafted += self._insert(session, infos, fresh, now)
        if changed:
            drafted += self._update(session, infos, changed, now)
        for source_id in drafted:
            counts[source_id].drafted += 1
        return counts

    def _insert(self, session: Session, infos: dict[int, SourceInfo], rows: list[dict[str, Any]], now: datetime) -> list[int]:
        for row in rows:
            row.update(first_seen_at=now, changed_at=now)
        earlier = self._marks(session, rows)
        # Inserted without RETURNING, then the ids read back by key: the driver then runs one
        # row statement for all rows (psycopg pipelines it, sqlite3 loops in C). With
        # RETURNING, SQLAlchemy sends multi-row statements whose tens of thousands of
        # placeholders psycopg parses afresh each page: a third of the poller's CPU on
        # PostgreSQL (bench/ingest.py).
        session.exec(insert(REVIEWS), params=rows)
        ids = _review_ids(session, {row["source_id"] for row in rows}, [row["external_id"] for row in rows])
        scored = [(ids[(row["source_id"], row["external_id"])], row) for row in rows]
        self._mark_earlier_copies(session, earlier)
        self._mark_copies_within(session, scored)
        verdicts = self._score(session, scored, now, replace=False)
        needing = [(rid, row) for rid, row in scored if verdicts[rid] and row["owner_reply"] is None]
        return self._draft(session, [(rid, infos[row["source_id"]], row) for rid, row in needing], now)

    def _update(self, session: Session, infos: dict[int, SourceInfo], rows_by_id: dict[int, dict[str, Any]], now: datetime) -> list[int]:
        old_rows = {r.id: r for r in session.exec(select(Review).where(col(Review.id).in_(list(rows_by_id))))}
        edited_rows = [row for rid, row in rows_by_id.items() if _content_changed(old_rows[rid], row)]
        earlier = self._marks(session, edited_rows)
        revisions, rescore = [], []
        for review_id, row in rows_by_id.items():
            old = old_rows[review_id]
            if _content_changed(old, row):
                revisions.append(
                    {"review_id": review_id, "rating": old.rating, "title": old.title, "text": old.text,
                     "updated_at": old.updated_at, "replaced_at": now}
                )
                rescore.append((review_id, row))
            session.exec(update(Review).where(Review.id == review_id).values(**row, changed_at=now))
        if revisions:
            session.exec(insert(ReviewRevision), params=revisions)
        self._mark_earlier_copies(session, earlier)
        drafts = {d.review_id: d for d in session.exec(select(Draft).where(col(Draft.review_id).in_(list(rows_by_id))))}
        follow_posted_replies(session, drafts, rows_by_id, {rid for rid, _ in rescore}, now)
        if not rescore:
            return []
        verdicts = self._score(session, rescore, now, replace=True)
        needing = [(rid, row) for rid, row in rescore if verdicts[rid] and row["owner_reply"] is None and rid not in drafts]
        return self._draft(session, [(rid, infos[row["source_id"]], row) for rid, row in needing], now)

    def _score(self, session: Session, rows: list[tuple[int, dict[str, Any]]], now: datetime, *, replace: bool) -> dict[int, bool]:
        """Score and store; returns review id -> negative. Escalation marks stay only on
        negative reviews (service/reading/marks.py)."""
        records = []
        for review_id, row in rows:
            verdict = self._verdict(row)
            records.append(
                {"review_id": review_id, "compound": verdict.compound, "negative": verdict.negative,
                 "language": verdict.language, "reason": verdict.reason, "scored_at": now}
            )
        if replace:
            for record in records:
                session.exec(update(Sentiment).where(Sentiment.review_id == record["review_id"]).values(**record))
        else:
            session.exec(insert(SENTIMENTS), params=records)
        negative = {r["review_id"]: r["negative"] for r in records}
        praise = [rid for rid, row in rows if row.get("escalation") and not negative[rid]]
        if praise:
            session.exec(update(Review).where(col(Review.id).in_(praise)).values(escalation=None))
        return negative

    def _draft(self, session: Session, rows: list[tuple[int, SourceInfo, dict[str, Any]]], now: datetime) -> list[int]:
        """Draft a reply to each (review id, its source, row); returns the drafts' source ids."""
        if not rows:
            return []
        drafts, notes = [], []
        for review_id, source, row in rows:
            made = self._reply(source, row)
            notes.append(made.note)
            drafts.append(
                {"review_id": review_id, "status": DraftStatus.drafted, "text": made.text, "template": made.template,
                 "policy_ok": made.policy.ok, "policy_problems": made.policy.problems, "created_at": now,
                 "updated_at": now, "edited_by": None}
            )
        session.exec(insert(DRAFTS), params=drafts)  # without RETURNING: see _insert
        review_ids = [d["review_id"] for d in drafts]
        ids = {review_id: draft_id for chunk in _chunks(review_ids) for review_id, draft_id in session.exec(
            select(Draft.review_id, Draft.id).where(col(Draft.review_id).in_(chunk)))}
        session.exec(
            insert(DRAFT_EVENTS),
            params=[
                {"draft_id": ids[d["review_id"]], "at": now, "actor": SYSTEM_ACTOR, "action": "drafted",
                 "status": DraftStatus.drafted, "text": d["text"],
                 "detail": f"from template {d['template']} {note}" + ("" if d["policy_ok"] else "; fails the policy guard: " + "; ".join(d["policy_problems"]))}
                for d, note in zip(drafts, notes)
            ],
        )
        return [source.id for _, source, _ in rows]


def rescore(ctx: Context, *, batch: int = 500) -> PageCounts:
    """Score and mark every stored review again, with the current thresholds and keyword
    lists; draft a reply for any review that is now negative, unanswered and has none.
    For after an upgrade or a change of [sentiment] or [escalation] in the config."""
    counts = PageCounts()
    ingester: PageIngester = ingester_of(ctx)
    with ctx.session() as session:
        sources = session.exec(select(Source)).all()
    configured = {s.name: s for s in ctx.config.sources}
    for source_row in sources:
        caps = connectors.capabilities_of(source_row.type)
        info = SourceInfo(source_row.id, source_row.name, configured[source_row.name].location if source_row.name in configured else None, caps)
        last_id = 0
        while True:
            now = ctx.clock()
            with ctx.session() as session:
                reviews = session.exec(
                    select(Review).where(Review.source_id == source_row.id, Review.id > last_id).order_by(Review.id).limit(batch)
                ).all()
                if not reviews:
                    break
                last_id = reviews[-1].id
                rows = {r.id: {"source_id": r.source_id, "external_id": r.external_id, "text": r.text, "title": r.title, "rating": r.rating,
                               "author": r.author, "translation": r.translation, "owner_reply": r.owner_reply} for r in reviews}
                earlier = ingester._marks(session, list(rows.values()))
                for review_id, row in rows.items():
                    session.exec(update(Review).where(Review.id == review_id).values(
                        escalation=row["escalation"], triage=row["triage"], text_hash=row["text_hash"]))
                ingester._mark_earlier_copies(session, earlier)
                verdicts = ingester._score(session, list(rows.items()), now, replace=True)
                has_draft = set(session.exec(select(Draft.review_id).where(col(Draft.review_id).in_(list(rows)))))
                needing = [(rid, row) for rid, row in rows.items() if verdicts[rid] and row["owner_reply"] is None and rid not in has_draft]
                counts.drafted += len(ingester._draft(session, [(rid, info, row) for rid, row in needing], now))
                counts.updated += len(rows)
    from service.trends import (
        rollups,  # reads what ingest writes; imported late to keep ingest light
    )

    rollups.refresh_quietly(ctx.engine, ctx.config.topics.keywords)
    return counts


def ingester_of(ctx: Context) -> PageIngester:
    """The process's ingester, with its scorer, drafter and scoring pool."""
    return ctx.helper("ingester", lambda: PageIngester(scorer_of(ctx), drafter_of(ctx), ctx.config.escalation.keywords))
