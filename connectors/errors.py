"""What can go wrong when reading a platform, as a small closed tree.

- ConnectorError: the source could not be read this time; the message says why
  - TransientError: network trouble or a 5xx; the next scheduled poll tries again
    - RateLimited: the platform asked us to slow down (`retry_after` seconds, if it said)
  - AuthError: credentials are missing, expired or refused; a person must act
  - BadResponse: the platform answered with something we cannot read as a whole page

The poller catches ConnectorError, records it on the source and poll run, and goes on
with the other sources. A single bad review is not an error here: connectors report it
as a RowError on its page and keep the rest.
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


class BadResponse(ConnectorError):
    pass
