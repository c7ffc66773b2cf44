"""The draft's life: edit, approve, reject — with the policy guard on every step.

    drafted  --approve--> approved      (only if the text passes the guard *now*)
    drafted  --reject---> rejected
    approved --reject---> rejected
    rejected --approve--> approved      (an owner may change their mind; guard again)
    failed, outdated --reject--> rejected
    drafted, approved, rejected, failed, outdated, withdrawn --edit--> drafted   (an edit needs a fresh approval)
Posting (approved -> posting -> posted | failed) is service/desk/posting.py.

Every step, refused approvals included, is written to the draft's history with who
did it and when. Only roles that may act (owners) get here (service/desk/users.py); an
escalated review needs an owner; with [replies] second_approver the approver must not
be the person who last edited the text. Approval sets the time after which the reply
may be posted (cooling-off: [replies] cooling_off after the review arrived). The guard is re-run at approval against the current config and the
platform's limit, so neither an edit nor a changed contact can slip a bad text through.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

import connectors
from connectors.base import ReplyLimit
from service.context import Context
from service.desk.transitions import ALLOWED, POSTABLE
from service.desk.users import Actor, Forbidden, as_actor, require
from service.errors import InvalidTransition, NotFound, PolicyViolation
from service.models import Draft, DraftEvent, DraftStatus, FollowUp, Review, Role, Sentiment, Source
from service.replies.drafter import DraftRequest, drafter_of
from service.replies.guard import PolicyResult

MAX_DRAFT_CHARS = 20_000



def _load(session: Session, draft_id: int, actor: Actor | str, what: str) -> tuple[Draft, Review, Source, Actor]:
    """The draft, its review and source, once the actor is allowed to act on it."""
    actor = require(actor, "act", what)
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"no draft with id {draft_id}")
    review = session.get(Review, draft.review_id)
    if review.escalation and actor.role != Role.owner:
        raise Forbidden(f"review {review.id} is escalated ({review.escalation}): only an owner may act on it")
    return draft, review, session.get(Source, review.source_id), actor


def _require(draft: Draft, action: str) -> None:
    if draft.status not in ALLOWED[action]:
        raise InvalidTransition(f"draft {draft.id} is {draft.status}; it cannot be {action.removesuffix('e')}ed from there"
                                if action != "edit" else f"draft {draft.id} is {draft.status} and can no longer be edited")


def reply_limit(source_type: str | None, platform: str = "") -> ReplyLimit | None:
    """The platform's limit; None (the guard's default) for a type no longer installed.

    A source of exported reviews (file, jsonld, sample) has no limit of its own, but its
    replies are pasted on the platform its owner named (`platform`): that platform's
    connector knows the limit the paste must fit."""
    limit = connectors.capabilities_of(source_type).reply_limit
    if limit is None and platform:
        named = platform.casefold().removeprefix("the ")
        for connector in connectors.available().values():
            known = connector.capabilities
            if known.reply_limit and known.platform.casefold().removeprefix("the ") == named:
                return known.reply_limit
    return limit


def platform_takes_replies(source_type: str | None) -> bool:
    """Whether replies to this source can be posted through its platform's API."""
    return connectors.capabilities_of(source_type).can_reply


def check_text(ctx: Context, text: str, *, source_name: str | None = None, source_type: str | None = None) -> PolicyResult:
    """The guard's verdict on `text` as a reply to a review of that source: its platform's
    limit, its configured channels (the business's where the source sets none)."""
    if source_type is None and source_name is not None:
        source_type = next((s.type for s in ctx.config.sources if s.name == source_name), None)
    return drafter_of(ctx).check(text, source_limit(ctx, source_name, source_type), source=source_name)


def source_limit(ctx: Context, source_name: str | None, source_type: str | None) -> ReplyLimit | None:
    """The length limit of replies to this source's reviews (reply_limit): the one the
    guard checks and the editor's preview shows."""
    if not source_type:
        return None
    return reply_limit(source_type, ctx.config.platform_of(source_name, source_type) if source_name is not None else "")


def draft_request(session: Session, review: Review, source: Source) -> DraftRequest:
    """What the drafter may know of `review` (never its text): its kind, language and source."""
    sentiment = session.get(Sentiment, review.id)
    return DraftRequest.for_review(
        source=source.name, external_id=review.external_id, author=review.author, rating=review.rating,
        title=review.title, text=review.text, escalation=review.escalation,
        detected_language=sentiment.language if sentiment else None, capabilities=connectors.capabilities_of(source.type))


def _event(session: Session, draft: Draft, actor: str, action: str, *, text: str | None = None, detail: str | None = None) -> None:
    session.add(DraftEvent(draft_id=draft.id, at=draft.updated_at, actor=actor, action=action, status=draft.status, text=text, detail=detail))


def edit(ctx: Context, draft_id: int, text: str, *, actor: Actor | str, action: str = "edited",
         note: str | None = None) -> PolicyResult:
    """Save the owner's text, passing or not; the verdict says whether it could be approved."""
    text = text.strip()
    if len(text) > MAX_DRAFT_CHARS:
        raise PolicyViolation(f"the reply is {len(text)} characters; drafts are limited to {MAX_DRAFT_CHARS}", [])
    with ctx.session() as session:
        draft, _, source, actor = _load(session, draft_id, actor, "edit drafts")
        _require(draft, "edit")
        verdict = check_text(ctx, text, source_name=source.name, source_type=source.type)
        draft.text, draft.policy_ok, draft.policy_problems = text, verdict.ok, verdict.problems
        draft.status, draft.edited_by, draft.updated_at = DraftStatus.drafted, actor.name, ctx.clock()
        draft.approved_by = draft.approved_at = draft.post_after = None
        failing = None if verdict.ok else "fails the policy guard: " + "; ".join(verdict.problems)
        _event(session, draft, actor.name, action, text=text, detail="; ".join(filter(None, (note, failing))) or None)
    return verdict


def regenerate(ctx: Context, draft_id: int, *, actor: Actor | str) -> PolicyResult:
    """Replace the text with the next bundled wording (the owner did not like this one)."""
    with ctx.session() as session:
        draft, review, source, _ = _load(session, draft_id, actor, "edit drafts")
        request = draft_request(session, review, source)
        template = drafter_of(ctx).next_wording(draft.template, request)
        made = drafter_of(ctx).draft(request, template=template)
    verdict = edit(ctx, draft_id, made.text, actor=actor, action="regenerated", note=f"from template {made.template} {made.note}")
    with ctx.session() as session:
        session.get(Draft, draft_id).template = made.template
    return verdict


def approve(ctx: Context, draft_id: int, *, actor: Actor | str, seen_text: str | None = None) -> datetime:
    """Approve a draft whose text passes the guard now; PolicyViolation otherwise (and it is
    recorded). The reply may then be posted once the cooling-off time has passed: the
    moment it may go out is returned.
    `seen_text`, when given, is the text the approver read: if the draft says something
    else by now (edited since), nothing is approved (InvalidTransition)."""
    with ctx.session() as session:
        draft, review, source, actor = _load(session, draft_id, actor, "approve replies")
        _require(draft, "approve")
        if seen_text is not None and seen_text.strip() != draft.text.strip():
            raise InvalidTransition(f"draft {draft_id} was changed (last by {draft.edited_by or 'reviewmon'}) after you read it; "
                                    "read the new text, then approve")
        if ctx.config.replies.second_approver and draft.edited_by == actor.name:
            raise Forbidden(f"{actor.name} edited draft {draft_id} last; another person must approve it (second pair of eyes)")
        verdict = check_text(ctx, draft.text, source_name=source.name, source_type=source.type)
        now = ctx.clock()
        draft.policy_ok, draft.policy_problems, draft.updated_at = verdict.ok, verdict.problems, now
        if verdict.ok:
            draft.status, draft.approved_by, draft.approved_at = DraftStatus.approved, actor.name, now
            draft.post_after = post_after = review.first_seen_at + ctx.config.replies.cooling_off
            _event(session, draft, actor.name, "approved", text=draft.text)
        else:
            _event(session, draft, actor.name, "approval refused", detail="; ".join(verdict.problems))
    if not verdict.ok:  # raised after the commit, so the refusal stays in the history
        raise PolicyViolation(f"draft {draft_id} cannot be approved: it fails the policy guard", verdict.problems)
    return post_after


def when_it_can_go_out(post_after: datetime, now: datetime) -> str:
    """What an approver is told, in the web app and the CLI alike."""
    if post_after > now:
        return f"it can go out from {post_after:%Y-%m-%d %H:%M} UTC, when the cooling-off ends"
    return "it can go out now"


def reject(ctx: Context, draft_id: int, *, actor: Actor | str, reason: str | None = None) -> None:
    with ctx.session() as session:
        draft, _, _, actor = _load(session, draft_id, actor, "reject replies")
        _require(draft, "reject")
        draft.status, draft.updated_at = DraftStatus.rejected, ctx.clock()
        draft.approved_by = draft.approved_at = draft.post_after = None
        _event(session, draft, actor.name, "rejected", detail=reason)


def record_followup(ctx: Context, draft_id: int, outcome: str, *, actor: Actor | str, note: str | None = None) -> None:
    """What happened off-line after the reply: contacted, resolved or no answer, and a note."""
    if outcome not in {f.value for f in FollowUp}:
        raise InvalidTransition(f"unknown follow-up {outcome!r}; use one of: {', '.join(f.value for f in FollowUp)}")
    with ctx.session() as session:
        draft, _, _, actor = _load(session, draft_id, actor, "record follow-ups")
        if draft.approved_at is None and draft.status not in (DraftStatus.posted, DraftStatus.outdated):
            raise InvalidTransition(f"draft {draft_id} is {draft.status}; follow-ups are recorded after a reply is approved")
        now = ctx.clock()
        draft.followup, draft.followup_note, draft.followup_at, draft.followup_by = outcome, note, now, actor.name
        draft.updated_at = now
        _event(session, draft, actor.name, f"follow-up: {outcome}", detail=note)


def next_steps(draft: dict, actor: Actor | str, *, can_reply: bool = True, now: datetime | None = None) -> frozenset[str]:
    """What `actor` may do to `draft` (a queries.draft_rows row) at `now`: "edit", "regenerate",
    "approve", "reject", "post", "mark posted", "follow up". For showing only the buttons
    that can work; each function above (and in service/desk/posting.py) still checks for itself.
    Nothing publishes before the cooling-off ends (`post_after`)."""
    actor = as_actor(actor)
    if not actor.can("act") or (draft["escalation"] and actor.role != Role.owner):
        return frozenset()
    steps = {action for action, statuses in ALLOWED.items() if draft["status"] in statuses}
    if "edit" in steps:
        steps.add("regenerate")
    cooling = now is not None and draft.get("post_after") is not None and draft["post_after"] > now
    if draft["status"] in POSTABLE and can_reply and not cooling:  # no reply API: the "by hand" path only
        steps.add("post")
    if draft["status"] == DraftStatus.approved and not cooling:
        steps.add("mark posted")
    if draft["approved_at"] is not None or draft["status"] in (DraftStatus.posted, DraftStatus.outdated):
        steps.add("follow up")
    return frozenset(steps)
