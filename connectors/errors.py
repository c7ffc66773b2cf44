"""What can go wrong when reading or writing a platform, as a small closed tree.

- ConnectorError: the source could not be read (or the reply not posted) this time
  - TransientError: network trouble or a 5xx; retried within the source's time budget,
    then the next scheduled poll tries again
    - RateLimited: the platform asked us to slow down (`retry_after` seconds, if it said)
  - AuthError: credentials are missing, expired or refused even after a refresh; the
    message names the environment variable or file to fix (source: "needs credentials")
  - NotAuthorised: the platform refuses this account, app or project (403, a quota of 0);
    the message carries the platform's reason (source: "not authorised")
  - BadResponse: the platform answered with something we cannot read as a whole page
    - TooLarge: an answer (or a file's line) passed its size limit; it was abandoned
      there, unread, and nothing from it was stored
  - Refused: a request the rules forbid was not sent: a redirect off the configured
    host, or an address inside the network (loopback, private, link-local, metadata)
  - ReplyRejected: the platform refused a reply (too long, moderation, not allowed)

The poller and the poster catch ConnectorError, record it, and go on with the others.
A single bad review is not an error here: connectors report it as a RowError on its
page and keep the rest.
"""

from __future__ import annotations


class ConnectorError(Exception):
    pass


class TransientError(ConnectorError):
    pass


class RateLimited(TransientError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    pass


class NotAuthorised(ConnectorError):
    pass


class BadResponse(ConnectorError):
    pass


class TooLarge(BadResponse):
    pass


class Refused(ConnectorError):
    pass


class ReplyRejected(ConnectorError):
    pass
