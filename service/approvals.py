"""The draft's life: edit, approve, reject — with the policy guard on every step.

    drafted  --approve--> approved      (only if the text passes the guard *now*)
    drafted  --reject---> rejected
    approved --reject---> rejected
    rejected --approve--> approved      (an owner may change their mind; guard again)
    failed, outdated --reject--> rejected
    drafted, approved, rejected, failed, outdated, withdrawn --edit--> drafted   (an edit needs a fresh approval)
Posting (approved -> posting -> posted | failed) is service/posting.py.

Every step, refused approvals included, is written to the draft's history with who
did it and when. The guard is re-run at approval against the current config and the
platform's limit, so neither an edit nor a changed contact can slip a bad text through.
"""

from __future__ import annotations

from sqlmodel import Session

import connectors
from connectors.base import ReplyLimit
from service.context import Context
from service.errors import InvalidTransition, NotFound, PolicyViolation
from service.models import Draft, DraftEvent, DraftStatus, Review, Source
from service.policy import PolicyResult

MAX_DRAFT_CHARS = 20_000

_ALLOWED = {
    "approve": {DraftStatus.drafted, DraftStatus.rejected},
    "reject": {DraftStatus.drafted, DraftStatus.approved, DraftStatus.failed, DraftStatus.outdated},
    "edit": {DraftStatus.drafted, DraftStatus.approved, DraftStatus.rejected, DraftStatus.failed, DraftStatus.outdated,
             DraftStatus.withdrawn},
}


def _load(session: Session, draft_id: int) -> tuple[Draft, Source]:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"no draft with id {draft_id}")
    review = session.get(Review, draft.review_id)
    return draft, session.get(Source, review.source_id)


def _require(draft: Draft, action: str) -> None:
    if draft.status not in _ALLOWED[action]:
        raise InvalidTransition(f"draft {draft.id} is {draft.status}; it cannot be {action}d from there"
                                if action != "edit" else f"draft {draft.id} is {draft.status} and can no longer be edited")


def reply_limit(source_type: str) -> ReplyLimit | None:
    try:
        return connectors.get(source_type).capabilities.reply_limit
    except KeyError:  # a source type no longer installed: the default limit applies
        return None


def check_text(ctx: Context, text: str, *, source_type: str | None = None) -> PolicyResult:
    """The policy verdict on `text` as a reply on a source of `source_type`."""
    return ctx.drafter.check(text, reply_limit(source_type) if source_type else None)


def _event(session: Session, draft: Draft, actor: str, action: str, *, text: str | None = None, detail: str | None = None) -> None:
    session.add(DraftEvent(draft_id=draft.id, at=draft.updated_at, actor=actor, action=action, status=draft.status, text=text, detail=detail))


def edit(ctx: Context, draft_id: int, text: str, *, actor: str) -> PolicyResult:
    """Save the owner's text, passing or not; the verdict says whether it could be approved."""
    text = text.strip()
    if len(text) > MAX_DRAFT_CHARS:
        raise PolicyViolation(f"the reply is {len(text)} characters; drafts are limited to {MAX_DRAFT_CHARS}", [])
    with ctx.session() as session:
        draft, source = _load(session, draft_id)
        _require(draft, "edit")
        verdict = check_text(ctx, text, source_type=source.type)
        draft.text, draft.policy_ok, draft.policy_problems = text, verdict.ok, verdict.problems
        draft.status, draft.edited_by, draft.updated_at = DraftStatus.drafted, actor, ctx.clock()
        _event(session, draft, actor, "edited", text=text, detail=None if verdict.ok else "fails the policy guard: " + "; ".join(verdict.problems))
    return verdict


def approve(ctx: Context, draft_id: int, *, actor: str) -> None:
    """Approve a draft whose text passes the guard now; PolicyViolation otherwise (and it is recorded)."""
    with ctx.session() as session:
        draft, source = _load(session, draft_id)
        _require(draft, "approve")
        verdict = check_text(ctx, draft.text, source_type=source.type)
        draft.policy_ok, draft.policy_problems, draft.updated_at = verdict.ok, verdict.problems, ctx.clock()
        if verdict.ok:
            draft.status = DraftStatus.approved
            _event(session, draft, actor, "approved", text=draft.text)
        else:
            _event(session, draft, actor, "approval refused", detail="; ".join(verdict.problems))
    if not verdict.ok:  # raised after the commit, so the refusal stays in the history
        raise PolicyViolation(f"draft {draft_id} cannot be approved: it fails the policy guard", verdict.problems)


def reject(ctx: Context, draft_id: int, *, actor: str, reason: str | None = None) -> None:
    with ctx.session() as session:
        draft, _ = _load(session, draft_id)
        _require(draft, "reject")
        draft.status, draft.updated_at = DraftStatus.rejected, ctx.clock()
        _event(session, draft, actor, "rejected", detail=reason)
