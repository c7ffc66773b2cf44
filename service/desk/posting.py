"""Post approved replies back to the platforms, exactly once.

    approved --post--> posting --platform accepts--> posted   (reply id, time and state kept)
                               --platform refuses--> failed   (its answer kept; retry by naming the draft)
    posting (a crash cut it short) --post--> posted            (re-sent where posting is an upsert,
                                                                 otherwise read back from the platform first)

Nothing is posted before its cooling-off time (set at approval). Before any request the
text is checked by the policy guard once more and measured against the platform's
limit as the platform counts it. Where the platform limits edits per profile (Google: 10
a minute per Business Profile), posts and withdrawals wait their turn per profile
(service/desk/pacing.py) rather than trip the quota. Platforms without a reply API
get the text and the review's link to post by hand; `mark_posted` records that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import col, select

import connectors
from connectors.base import ReplyTarget
from connectors.errors import ConnectorError
from connectors.http import make_client
from service.config import SourceConfig
from service.context import Context
from service.desk import approvals
from service.desk.pacing import PACER, Pacer
from service.desk.transitions import POSTABLE
from service.desk.users import Actor, require
from service.errors import InvalidTransition, NotFound
from service.models import Draft, DraftEvent, DraftStatus, Review, Source

log = logging.getLogger("reviewmon.posting")

@dataclass
class PostResult:
    draft_id: int
    outcome: str  # posted | failed | refused | manual | waiting | would post
    message: str
    text: str
    url: str | None = None


@dataclass
class _Job:
    draft: Draft
    review: Review
    source: Source
    config: SourceConfig | None


def _jobs(ctx: Context, draft_ids: list[int] | None) -> list[_Job]:
    with ctx.session() as session:
        query = select(Draft, Review, Source).join(Review, Review.id == Draft.review_id).join(Source, Source.id == Review.source_id)
        if draft_ids:
            query = query.where(col(Draft.id).in_(draft_ids))
        else:  # failed drafts are retried only when named: the platform may refuse them again
            query = query.where(col(Draft.status).in_([DraftStatus.approved, DraftStatus.posting]))
        rows = session.exec(query.order_by(Draft.id)).all()
    found = {draft.id for draft, _, _ in rows}
    missing = [i for i in draft_ids or [] if i not in found]
    if missing:
        raise NotFound(f"no draft with id {missing[0]}")
    configured = {s.name: s for s in ctx.config.sources}
    return [_Job(d, r, s, configured.get(s.name)) for d, r, s in rows]


def _record(ctx: Context, draft_id: int, actor: str, action: str, status: DraftStatus, *, detail: str | None = None, **fields: object) -> None:
    with ctx.session() as session:
        draft = session.get(Draft, draft_id)
        now = ctx.clock()
        for name, value in fields.items():
            setattr(draft, name, value)
        draft.status, draft.updated_at = status, now
        session.add(DraftEvent(draft_id=draft_id, at=now, actor=actor, action=action, status=status, detail=detail,
                               text=fields.get("posted_text")))


async def post(ctx: Context, draft_ids: list[int] | None = None, *, actor: Actor | str, dry_run: bool = False,
               pacer: Pacer | None = None) -> list[PostResult]:
    """Post the named drafts (default: every approved one); one result per draft. Only
    roles that may act (owners) post."""
    actor = require(actor, "act", "post replies").name
    results = []
    async with make_client() as client:
        for job in _jobs(ctx, draft_ids):
            results.append(await _post_one(ctx, job, client, actor=actor, dry_run=dry_run, pacer=pacer or PACER))
    return results


def _profile(job: _Job) -> tuple[str, str]:
    """What a platform's edit limit counts by: the review's profile (a Google location)."""
    return job.source.type, job.review.location or job.source.name


async def _post_one(ctx: Context, job: _Job, client: object, *, actor: str, dry_run: bool, pacer: Pacer) -> PostResult:
    draft, review = job.draft, job.review
    result = PostResult(draft.id, "refused", "", draft.text, review.url)
    if draft.status not in POSTABLE:
        result.message = f"draft {draft.id} is {draft.status}; only approved drafts are posted"
        return result
    if draft.post_after is not None and draft.post_after > ctx.clock():
        result.outcome = "waiting"
        result.message = f"cooling-off: not posted before {draft.post_after:%Y-%m-%d %H:%M} UTC"
        return result
    if job.config is None:
        result.message = f"source {job.source.name!r} is no longer in the config"
        return result
    verdict = approvals.check_text(ctx, draft.text, source_name=job.source.name, source_type=job.source.type)
    if not verdict.ok:
        result.message = "fails the policy guard: " + "; ".join(verdict.problems)
        return result
    try:
        connector = job.config.connect(client)
    except ConnectorError as exc:
        result.outcome, result.message = "failed", str(exc)
        return result
    if not connector.capabilities.can_reply or not getattr(connector, "replies_configured", True):
        result.outcome = "manual"
        result.message = f"{connector.capabilities.platform or job.source.type} takes no replies through its API here: post it yourself, then run `reviewmon drafts mark-posted {draft.id}`"
        return result
    if dry_run:
        result.outcome, result.message = "would post", f"would post {len(draft.text)} characters to {connector.capabilities.platform}"
        return result
    target = ReplyTarget(review.external_id, review.url, review.raw, review.location)
    try:
        if draft.status == DraftStatus.posting and not connector.capabilities.reply_upsert:
            existing = await connector.current_reply(target)
            if existing is not None and " ".join((existing.text or "").split()) == " ".join(draft.text.split()):
                _posted(ctx, draft, existing, actor, "found on the platform after an interrupted post")
                result.outcome, result.message = "posted", "was already on the platform (an earlier post was interrupted)"
                return result
        await pacer.wait(_profile(job), connector.capabilities.edits_per_minute)
        _record(ctx, draft.id, actor, "posting", DraftStatus.posting)
        posted = await connector.post_reply(target, draft.text)
    except ConnectorError as exc:
        _record(ctx, draft.id, actor, "post failed", DraftStatus.failed, detail=str(exc), post_error=str(exc))
        log.error("draft %s: post failed: %s", draft.id, exc, extra={"draft_id": draft.id, "source": job.source.name})
        result.outcome, result.message = "failed", str(exc)
        return result
    _posted(ctx, draft, posted, actor, None)
    result.outcome = "posted"
    result.message = f"posted to {connector.capabilities.platform}" + (f" ({posted.state})" if posted.state else "")
    return result


def _posted(ctx: Context, draft: Draft, posted: connectors.base.PostedReply, actor: str, detail: str | None) -> None:
    _record(ctx, draft.id, actor, "posted", DraftStatus.posted, detail=detail or (posted.state and f"platform state: {posted.state}"),
            posted_at=posted.posted_at or ctx.clock(), posted_text=draft.text, platform_reply_id=posted.reply_id,
            platform_state=posted.state, post_error=None)


async def withdraw(ctx: Context, draft_id: int, *, actor: Actor | str) -> str:
    """Delete our posted reply from the platform (where its API allows it)."""
    actor = require(actor, "act", "withdraw replies").name
    [job] = _jobs(ctx, [draft_id])
    if job.draft.status not in (DraftStatus.posted, DraftStatus.outdated):
        raise InvalidTransition(f"draft {draft_id} is {job.draft.status}; only a posted reply can be withdrawn")
    if job.config is None:
        raise InvalidTransition(f"source {job.source.name!r} is no longer in the config")
    async with make_client() as client:
        connector = job.config.connect(client)
        if not hasattr(connector, "delete_reply"):
            raise InvalidTransition(f"{connector.capabilities.platform or job.source.type} cannot withdraw replies through its API; remove it there by hand")
        target = ReplyTarget(job.review.external_id, job.review.url, job.review.raw, job.review.location)
        await PACER.wait(_profile(job), connector.capabilities.edits_per_minute)
        await connector.delete_reply(target)
    _record(ctx, draft_id, actor, "withdrawn", DraftStatus.withdrawn, detail=f"deleted from {connector.capabilities.platform}")
    return connector.capabilities.platform


def mark_posted(ctx: Context, draft_id: int, *, actor: Actor | str) -> None:
    """Record that an owner posted an approved reply by hand (platforms without a reply API)."""
    actor = require(actor, "act", "record posted replies").name
    with ctx.session() as session:
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise NotFound(f"no draft with id {draft_id}")
        if draft.status != DraftStatus.approved:
            raise InvalidTransition(f"draft {draft_id} is {draft.status}; only an approved draft can be marked posted")
        if draft.post_after is not None and draft.post_after > ctx.clock():
            raise InvalidTransition(f"draft {draft_id} is in its cooling-off: it may go out from "
                                    f"{draft.post_after:%Y-%m-%d %H:%M} UTC, not before")
    _record(ctx, draft_id, actor, "posted by hand", DraftStatus.posted, posted_at=ctx.clock(), posted_text=draft.text)
