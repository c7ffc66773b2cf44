"""A draft's history in words: what each recorded step did, as a person would say it.

A step is recorded with its action and the draft's status after it (service/desk/
approvals.py, posting.py, recheck.py, service/polling/ingest.py). "approved -> approved"
or "drafted -> drafted" says nothing to an owner; with the status the draft had before
the step, it says "approved the reply" or "edited the approved reply: it needs
approving again". The web app's history and `reviewmon drafts show` both read these.
"""

from __future__ import annotations

from service.models import DraftStatus

# What each action did, whatever the draft was before it.
_SAID = {
    "drafted": "drafted a reply",
    "approved": "approved the reply",
    "approval refused": "tried to approve it: the policy guard refused",
    "posting": "began posting the reply",
    "post failed": "could not post the reply",
    "posted": "posted the reply",
    "posted by hand": "recorded that the reply was posted by hand",
    "withdrawn": "withdrew the reply from the platform",
    "outdated": "marked the posted reply outdated",
    "confirmed": "saw the reply on the platform",
    "unapproved": "took back the approval",
}


def said(action: str, before: str | None) -> str:
    """What a step did, without who did it: `action` as recorded, `before` the draft's
    status before it (None for the first step)."""
    if action in ("edited", "regenerated"):
        done = "edited the" if action == "edited" else "asked for another wording of the"
        if before in (None, DraftStatus.drafted):
            return "edited the draft" if action == "edited" else "asked for another wording"
        again = "it needs approving again" if before == DraftStatus.approved else "a draft again"
        return f"{done} {before} reply: {again}"
    if action == "rejected":
        return "rejected the approved reply" if before == DraftStatus.approved else "rejected the reply"
    if action.startswith("follow-up: "):
        return f"recorded a follow-up: {action.removeprefix('follow-up: ')}"
    return _SAID.get(action, action)


def in_words(events: list[dict]) -> list[dict]:
    """The events (oldest first, with "action" and "status") each with "what": said()."""
    before = None
    for event in events:
        event["what"] = said(event["action"], before)
        before = event["status"]
    return events
