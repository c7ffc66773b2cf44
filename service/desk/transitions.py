"""From which statuses a draft may take each step: the one rule that approvals (edit,
approve, reject) and posting (post) share, kept apart so that neither imports the other
for it (posting calls approvals for the guard's verdict).
"""

from __future__ import annotations

from service.models import DraftStatus

ALLOWED = {
    "approve": {DraftStatus.drafted, DraftStatus.rejected},
    "reject": {DraftStatus.drafted, DraftStatus.approved, DraftStatus.failed, DraftStatus.outdated},
    "edit": {DraftStatus.drafted, DraftStatus.approved, DraftStatus.rejected, DraftStatus.failed, DraftStatus.outdated,
             DraftStatus.withdrawn},
}

# approved: the first try; posting: a try a crash cut short (re-sent, or read back from
# the platform first); failed: a retry the owner asked for by name.
POSTABLE = frozenset({DraftStatus.approved, DraftStatus.posting, DraftStatus.failed})
