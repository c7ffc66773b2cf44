"""Check every stored draft again with the guard as it is now (after an upgrade of the
guard, or a change of the configured contacts): `reviewmon rescore` runs it.

A draft that now fails keeps its text and gets the new reasons; an approved one goes
back to drafted, with the reasons in its history, so it can never reach a platform.
Posted, outdated, withdrawn and rejected drafts are left as they are: the first three are
public or gone already, and a rejected one is checked again if it is ever approved.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.context import Context
from service.desk.approvals import check_text
from service.models import SYSTEM_ACTOR, Draft, DraftEvent, DraftStatus, Review, Source

CHECKED = (DraftStatus.drafted, DraftStatus.approved, DraftStatus.failed)
BATCH = 500


@dataclass
class RecheckCounts:
    checked: int = 0
    now_failing: int = 0
    unapproved: int = 0


def recheck_drafts(ctx: Context) -> RecheckCounts:
    counts = RecheckCounts()
    after = 0
    while True:
        with ctx.session(write=True) as session:
            rows = session.exec(
                select(Draft, Source).join(Review, Review.id == Draft.review_id).join(Source, Source.id == Review.source_id)
                .where(col(Draft.status).in_(CHECKED), col(Draft.id) > after).order_by(Draft.id).limit(BATCH)
            ).all()
            for draft, source in rows:
                _recheck(ctx, session, draft, source, counts)
        if len(rows) < BATCH:
            return counts
        after = rows[-1][0].id


def _recheck(ctx: Context, session: Session, draft: Draft, source: Source, counts: RecheckCounts) -> None:
    counts.checked += 1
    verdict = check_text(ctx, draft.text, source_name=source.name, source_type=source.type)
    if verdict.ok == draft.policy_ok and verdict.problems == draft.policy_problems:
        return
    now = ctx.clock()
    draft.policy_ok, draft.policy_problems, draft.updated_at = verdict.ok, verdict.problems, now
    if verdict.ok:
        return
    counts.now_failing += 1
    if draft.status == DraftStatus.approved:
        counts.unapproved += 1
        draft.status = DraftStatus.drafted
        draft.approved_by = draft.approved_at = draft.post_after = None
        session.add(DraftEvent(draft_id=draft.id, at=now, actor=SYSTEM_ACTOR, action="unapproved", status=draft.status,
                               detail="fails the policy guard as it is now: " + "; ".join(verdict.problems)))
