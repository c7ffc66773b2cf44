"""What owners do with drafts: the approval state machine, posting to platforms,
follow-ups, user accounts, and the read-side queries of the inbox and the lists.

May import the shared modules, service.reading and service.replies.
"""
