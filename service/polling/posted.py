"""What a poll learns about the replies we posted: the platform shows one (confirmed), the
reviewer edited the review after it (outdated), or the platform's moderation of it moved
(Google's ReviewReplyState: PENDING, then APPROVED or REJECTED): each is noted on the
draft, with a line in its history, in the transaction that stores the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.models import SYSTEM_ACTOR, Draft, DraftEvent, DraftStatus


def same_text(shown: str | None, ours: str | None) -> bool:
    """Platforms may re-wrap or trim a reply; compare the words."""
    return bool(shown and ours) and " ".join(shown.split()) == " ".join(ours.split())


def follow_posted_replies(
    session: Session, drafts: dict[int, Draft], rows_by_id: dict[int, dict[str, Any]], edited: set[int], now: datetime
) -> None:
    """`drafts` by review id; `rows_by_id` the changed reviews as stored now; `edited` the
    reviews whose text, title or rating changed."""
    for review_id, draft in drafts.items():
        if draft.status != DraftStatus.posted:
            continue
        if review_id in edited:
            _note(session, draft, now, "outdated", "the reviewer changed the review after our reply was posted",
                  status=DraftStatus.outdated)
            continue
        row = rows_by_id[review_id]
        if not same_text(row["owner_reply"], draft.posted_text or draft.text):
            continue
        if draft.confirmed_at is None:
            draft.confirmed_at = now
            _note(session, draft, now, "confirmed", "the platform shows our reply")
        state = row.get("owner_reply_state")
        if state and state != draft.platform_state:
            draft.platform_state = state
            _note(session, draft, now, "moderated", f"the platform's moderation state of our reply is now {state}")


def _note(session: Session, draft: Draft, now: datetime, action: str, detail: str, *, status: str | None = None) -> None:
    if status is not None:
        draft.status = status
    draft.updated_at = now
    session.add(DraftEvent(draft_id=draft.id, at=now, actor=SYSTEM_ACTOR, action=action, status=draft.status, detail=detail))
