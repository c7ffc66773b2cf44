"""Store one page of reviews from a connector: upsert, revisions, sentiment, drafts.

`ingest_page` is called inside the transaction that also saves the source's cursor, so
a page and the cursor that covers it land together or not at all. For each review:

    new                                  -> insert, score, draft if negative and unanswered
    seen before, nothing changed         -> no write at all
    text, title or rating changed        -> keep the old version as a revision, update, score again,
                                            draft if it is now negative, unanswered and has none;
                                            a reply we already posted is marked outdated
    only other fields changed            -> update them (author, url, owner reply, ...); an owner
                                            reply that matches the reply we posted confirms it
    marked removed earlier, listed again -> no longer removed

Writes are batched per page (one statement per table), which is what keeps a large
import close to the speed of scoring the texts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

import connectors
from connectors.base import Capabilities, ReviewData
from service import marks
from service.models import Draft, DraftEvent, DraftStatus, Review, ReviewRevision, Sentiment, Source
from service.replies import ReplyDrafter
from service.sentiment import SentimentScorer

SYSTEM_ACTOR = "reviewmon"


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
    }
    row["fingerprint"] = _fingerprint(row)
    row["raw"] = review.raw
    return row


def _fingerprint(row: dict[str, Any]) -> str:
    canonical = json.dumps(row, sort_keys=True, default=lambda v: v.isoformat(), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _same_text(shown: str | None, ours: str | None) -> bool:
    """Platforms may re-wrap or trim a reply; compare the words."""
    return bool(shown and ours) and " ".join(shown.split()) == " ".join(ours.split())


def _content_changed(old: Review, new: dict[str, Any]) -> bool:
    return (old.text, old.title, old.rating) != (new["text"], new["title"], new["rating"])


class PageIngester:
    """Holds the per-process pieces (scorer, drafter, escalation words) and stores pages with them."""

    def __init__(self, scorer: SentimentScorer, drafter: ReplyDrafter, escalation_words: dict[str, list[str]] | None = None):
        self.scorer = scorer
        self.drafter = drafter
        self.escalation_words = escalation_words or {}

    def _marks(self, session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
        """Set escalation and triage marks on new or edited rows before they are written
        (service/marks.py). Returns (earlier review id, row's external id) pairs whose
        earlier copy should be marked too, once the new row has its id."""
        for row in rows:
            row["text_hash"] = marks.text_hash(row["text"])
            row["escalation"] = marks.escalation(row["text"], row["title"], self.escalation_words)
        hashes = {row["text_hash"] for row in rows if row["text_hash"]}
        known: dict[str, list[tuple[int, str | None]]] = {}
        if hashes:
            for review_id, digest, author in session.exec(
                select(Review.id, Review.text_hash, Review.author).where(col(Review.text_hash).in_(hashes))
            ):
                known.setdefault(digest, []).append((review_id, author))
        earlier = []
        for row in rows:
            twins = [i for i, author in known.get(row["text_hash"], []) if author != row["author"]]
            first = min(twins) if twins else None
            row["triage"] = marks.triage(row["text"], row["title"], duplicate_of=first)
            if first is not None:
                earlier.append((first, row["external_id"]))
        return earlier

    @staticmethod
    def _mark_copies_within(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> None:
        """The same text from different reviewers on one page (a burst of fakes)."""
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

    def _mark_earlier_copies(self, session: Session, source_id: int, earlier: list[tuple[int, str]]) -> None:
        for first, external_id in earlier:
            copy_id = session.exec(select(Review.id).where(Review.source_id == source_id, Review.external_id == external_id)).one()
            session.exec(update(Review).where(Review.id == first, col(Review.triage).is_(None))
                         .values(triage=f"the same text as review {copy_id} by another reviewer"))

    def ingest(self, session: Session, source: SourceInfo, reviews: list[ReviewData], now: datetime) -> PageCounts:
        rows = {}
        for review in reviews:  # a platform repeating a review on one page: the last copy wins
            rows[review.external_id] = _row(review, source)
        existing = {
            external_id: (review_id, fingerprint, removed_at)
            for review_id, external_id, fingerprint, removed_at in session.exec(
                select(Review.id, Review.external_id, Review.fingerprint, Review.removed_at).where(
                    Review.source_id == source.id, col(Review.external_id).in_(list(rows))
                )
            )
        }
        counts = PageCounts()
        fresh = [row for ext, row in rows.items() if ext not in existing]
        changed = {existing[ext][0]: row for ext, row in rows.items() if ext in existing and existing[ext][1] != row["fingerprint"]}
        counts.unchanged = len(rows) - len(fresh) - len(changed)
        back = [existing[ext][0] for ext in rows if ext in existing and existing[ext][2] is not None]
        if back:
            session.exec(update(Review).where(col(Review.id).in_(back)).values(removed_at=None))
        if fresh:
            counts.drafted += self._insert(session, source, fresh, now)
            counts.inserted = len(fresh)
        if changed:
            counts.drafted += self._update(session, source, changed, now)
            counts.updated = len(changed)
        return counts

    def _insert(self, session: Session, source: SourceInfo, rows: list[dict[str, Any]], now: datetime) -> int:
        for row in rows:
            row.update(source_id=source.id, first_seen_at=now, changed_at=now)
        earlier = self._marks(session, rows)
        # RETURNING the external id too, to pair ids with rows: asking SQLAlchemy to keep the
        # parameters' order (sort_by_parameter_order) makes it insert one row per statement on SQLite.
        ids = dict(session.exec(insert(Review).returning(Review.external_id, Review.id), params=rows).all())
        scored = [(ids[row["external_id"]], row) for row in rows]
        self._mark_earlier_copies(session, source.id, earlier)
        self._mark_copies_within(session, scored)
        verdicts = self._score(session, scored, now, replace=False)
        needing = [(rid, row) for rid, row in scored if verdicts[rid] and row["owner_reply"] is None]
        return self._draft(session, source, needing, now)

    def _update(self, session: Session, source: SourceInfo, rows_by_id: dict[int, dict[str, Any]], now: datetime) -> int:
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
        self._mark_earlier_copies(session, source.id, earlier)
        drafts = {d.review_id: d for d in session.exec(select(Draft).where(col(Draft.review_id).in_(list(rows_by_id))))}
        self._follow_posted_replies(session, drafts, rows_by_id, {rid for rid, _ in rescore}, now)
        if not rescore:
            return 0
        verdicts = self._score(session, rescore, now, replace=True)
        needing = [(rid, row) for rid, row in rescore if verdicts[rid] and row["owner_reply"] is None and rid not in drafts]
        return self._draft(session, source, needing, now)

    @staticmethod
    def _follow_posted_replies(
        session: Session, drafts: dict[int, Draft], rows_by_id: dict[int, dict[str, Any]], edited: set[int], now: datetime
    ) -> None:
        """A posted reply is confirmed when the platform shows it, and outdated when the
        reviewer edits their review afterwards (the owner should look again)."""
        for review_id, draft in drafts.items():
            if draft.status != DraftStatus.posted:
                continue
            if review_id in edited:
                draft.status, draft.updated_at = DraftStatus.outdated, now
                session.add(DraftEvent(draft_id=draft.id, at=now, actor=SYSTEM_ACTOR, action="outdated",
                                       status=draft.status, detail="the reviewer changed the review after our reply was posted"))
            elif draft.confirmed_at is None and _same_text(rows_by_id[review_id]["owner_reply"], draft.posted_text or draft.text):
                draft.confirmed_at, draft.updated_at = now, now
                session.add(DraftEvent(draft_id=draft.id, at=now, actor=SYSTEM_ACTOR, action="confirmed",
                                       status=draft.status, detail="the platform shows our reply"))

    def _score(self, session: Session, rows: list[tuple[int, dict[str, Any]]], now: datetime, *, replace: bool) -> dict[int, bool]:
        """Score and store; returns review id -> negative. Escalation marks stay only on
        negative reviews (service/marks.py)."""
        records = []
        for review_id, row in rows:
            verdict = self.scorer.score(
                text=row["text"], title=row["title"], rating=row["rating"], translation=row["translation"]
            )
            records.append(
                {"review_id": review_id, "compound": verdict.compound, "negative": verdict.negative,
                 "language": verdict.language, "reason": verdict.reason, "scored_at": now}
            )
        if replace:
            for record in records:
                session.exec(update(Sentiment).where(Sentiment.review_id == record["review_id"]).values(**record))
        else:
            session.exec(insert(Sentiment), params=records)
        negative = {r["review_id"]: r["negative"] for r in records}
        praise = [rid for rid, row in rows if row.get("escalation") and not negative[rid]]
        if praise:
            session.exec(update(Review).where(col(Review.id).in_(praise)).values(escalation=None))
        return negative

    def _draft(self, session: Session, source: SourceInfo, rows: list[tuple[int, dict[str, Any]]], now: datetime) -> int:
        if not rows:
            return 0
        drafts = []
        for review_id, row in rows:
            made = self.drafter.draft(
                key=f"{source.name}:{row['external_id']}",
                author=row["author"],
                platform=source.capabilities.platform,
                limit=source.capabilities.reply_limit,
            )
            drafts.append(
                {"review_id": review_id, "status": DraftStatus.drafted, "text": made.text, "template": made.template,
                 "policy_ok": made.policy.ok, "policy_problems": made.policy.problems, "created_at": now,
                 "updated_at": now, "edited_by": None}
            )
        ids = dict(session.exec(insert(Draft).returning(Draft.review_id, Draft.id), params=drafts).all())  # see _insert
        session.exec(
            insert(DraftEvent),
            params=[
                {"draft_id": ids[d["review_id"]], "at": now, "actor": SYSTEM_ACTOR, "action": "drafted",
                 "status": DraftStatus.drafted, "text": d["text"],
                 "detail": f"from template {d['template']}" + ("" if d["policy_ok"] else "; fails the policy guard: " + "; ".join(d["policy_problems"]))}
                for d in drafts
            ],
        )
        return len(drafts)


def rescore(ctx: Any, *, batch: int = 500) -> PageCounts:
    """Score and mark every stored review again, with the current thresholds and keyword
    lists; draft a reply for any review that is now negative, unanswered and has none.
    For after an upgrade or a change of [sentiment] or [escalation] in the config."""
    counts = PageCounts()
    ingester: PageIngester = ctx.ingester
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
                rows = {r.id: {"external_id": r.external_id, "text": r.text, "title": r.title, "rating": r.rating,
                               "author": r.author, "translation": r.translation, "owner_reply": r.owner_reply} for r in reviews}
                earlier = ingester._marks(session, list(rows.values()))
                for review_id, row in rows.items():
                    session.exec(update(Review).where(Review.id == review_id).values(
                        escalation=row["escalation"], triage=row["triage"], text_hash=row["text_hash"]))
                ingester._mark_earlier_copies(session, source_row.id, earlier)
                verdicts = ingester._score(session, list(rows.items()), now, replace=True)
                has_draft = set(session.exec(select(Draft.review_id).where(col(Draft.review_id).in_(list(rows)))))
                needing = [(rid, row) for rid, row in rows.items() if verdicts[rid] and row["owner_reply"] is None and rid not in has_draft]
                counts.drafted += ingester._draft(session, info, needing, now)
                counts.updated += len(rows)
    from service import (
        trends,  # trends reads what ingest writes; imported late to keep ingest light
    )

    trends.refresh_quietly(ctx.engine, ctx.config.topics.keywords)
    return counts
