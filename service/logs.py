"""Logging set-up for every entry point: readable lines on a terminal, one JSON object
per line when unattended (cron, systemd, containers), so logs can be searched by field.

Fields passed with `extra=` (source, counts, raw payloads) appear as JSON keys.

A command that reports in words what some records say (`reviewmon poll` names each
failed source on stderr) leaves those records out unless logs were asked for with
--log-level or --log-format, so that cron mails one readable line per failure.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("auto", "text", "json")


def configure(level: str = "warning", fmt: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    if use_json:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    set_level(level)


def leave_out(logger_name: str) -> None:
    """Leave the records of `logger_name` out of what configure() set up: for a command
    that says the same in words of its own on the same stream (cron mails both)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.name != logger_name)


def set_level(level: str) -> None:
    logging.getLogger("reviewmon").setLevel(level.upper())
