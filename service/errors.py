"""Errors the service raises to its callers (CLI, web app, scheduler).

Each carries a message written for the person running reviewmon, and an exit code
the CLI uses:

- ReviewmonError (1)
  - ConfigError (2): the config file is missing, unreadable or invalid
  - MissingSecret (2): an environment variable named by the config is not set
  - NotMigrated (2): the database schema is not at the version this code needs
  - DatabaseUnavailable (2): the database cannot be reached (down, wrong host, refused)
  - NotFound (1): no such draft, review or source
  - InvalidTransition (1): a draft cannot move to the asked status from where it is
  - PolicyViolation (1): a reply text fails the policy guard
  - SourceBusy (1): another process is polling the source right now
  - NotBackfillable (1): the source's platform does not list its history
"""

from __future__ import annotations


class ReviewmonError(Exception):
    exit_code = 1


class ConfigError(ReviewmonError):
    exit_code = 2


class MissingSecret(ReviewmonError):
    exit_code = 2


class NotMigrated(ReviewmonError):
    exit_code = 2


class DatabaseUnavailable(ReviewmonError):
    exit_code = 2


class NotFound(ReviewmonError):
    pass


class InvalidTransition(ReviewmonError):
    pass


class SourceBusy(ReviewmonError):
    pass


class NotBackfillable(ReviewmonError):
    pass


class PolicyViolation(ReviewmonError):
    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems
