"""Send due alerts through their channels (apprise), and record what happened.

    for each message due (outbox.due_groups: one per alert, or a channel's digest):
        claim its rows                          short write transaction, lease "sending"
        read the channel's URL from its env var a missing variable is that channel's failure
        apprise.notify(...)                     HTML to channels that take it, else plain text
        record sent, or a failed attempt        retried with backoff; "failed" after [alerts] attempts

Nothing here raises for a delivery failure: the poller and the worker call
`deliver_due` between polls, and a broken mail server must never stop them. The once-only
guarantee and its one gap (a crash between sending and recording) are in outbox.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

from connectors.secrets import redact
from service.alerts import outbox
from service.alerts.messages import Message, digest_message, test_message
from service.config import AlertChannelConfig, read_secret
from service.context import Context
from service.errors import MissingSecret, NotFound
from service.metrics import ALERTS_SENT
from service.models import Alert

log = logging.getLogger("reviewmon.alerts")

SEND_TIMEOUT = 60  # seconds for one message, well within outbox.LEASE
ERROR_LIMIT = 500  # characters of a failure's reason kept on the row


@dataclass
class DeliveryCounts:
    messages: int = 0  # messages a channel accepted
    sent: int = 0  # alerts in them
    failed: int = 0  # alerts whose delivery failed in this run (retried later unless given up)
    gave_up: int = 0  # of those, alerts that used their last attempt and are now "failed"


def deliver_due(ctx: Context) -> DeliveryCounts:
    """Send every alert that is due now. Safe to run in several processes at once."""
    counts = DeliveryCounts()
    try:
        with ctx.session() as session:
            groups = outbox.due_groups(session, ctx.config.alerts, ctx.clock())
        for group in groups:
            _deliver_group(ctx, group, counts)
    except Exception:  # a database fault: logged, and tried again on the next run
        log.exception("could not deliver alerts")
    return counts


def _deliver_group(ctx: Context, group: outbox.Group, counts: DeliveryCounts) -> None:
    with ctx.session() as session:
        token, alerts = outbox.claim(session, group, ctx.clock())
    if not alerts:
        return  # another process took them
    channel = _channel(ctx, group.channel)  # None: removed from the config since the alert was recorded
    ok, reason = send_to(channel, _message(alerts)) if channel else (False, f"no channel named {group.channel} in [alerts] channels")
    now, gave_up = ctx.clock(), 0
    with ctx.session() as session:
        if ok:
            outbox.record_sent(session, token, alerts, now)
        else:
            gave_up = outbox.record_failed(session, token, alerts, reason or "failed", now, ctx.config.alerts.attempts)
    ALERTS_SENT.labels(channel=group.channel, outcome="sent" if ok else "failed").inc()
    if ok:
        counts.messages += 1
        counts.sent += len(alerts)
        log.info("%s: sent %d alert(s)", group.channel, len(alerts), extra={"channel": group.channel, "alerts": len(alerts)})
    else:
        counts.failed += len(alerts)
        counts.gave_up += gave_up
        log.warning("%s: could not send %d alert(s): %s%s", group.channel, len(alerts), reason,
                    " (giving up)" if gave_up else " (will retry)", extra={"channel": group.channel})


def _channel(ctx: Context, name: str) -> AlertChannelConfig | None:
    return next((c for c in ctx.config.alerts.channels if c.name == name), None)


def _message(alerts: list[Alert]) -> Message:
    parts = [Message(a.title, a.body, a.body_html) for a in alerts]
    return parts[0] if len(parts) == 1 else digest_message(parts, [a.event for a in alerts])


def channel_url(channel: AlertChannelConfig) -> str:
    """The channel's apprise URL, from its environment variable (MissingSecret if unset)."""
    return read_secret(channel.url_env, key=f"alerts.channels ({channel.name}).url_env")


def send_to(channel: AlertChannelConfig, message: Message) -> tuple[bool, str | None]:
    try:
        url = channel_url(channel)
    except MissingSecret as exc:
        return False, str(exc)
    return send(url, message)


def send(url: str, message: Message, *, timeout: float = SEND_TIMEOUT) -> tuple[bool, str | None]:
    """Hand one message to apprise; (True, None) or (False, why) with every secret of the
    URL redacted. Never raises."""
    try:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return False, "the channel's URL is not one apprise understands (see https://github.com/caronc/apprise/wiki)"
        html = bool(message.body_html) and _preferred_format(notifier[0]) == apprise.NotifyFormat.HTML
        result = notifier.notify(
            title=message.title, body=message.body_html if html else message.body,
            body_format=apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT,
            timeout=timeout, log_level=logging.WARNING,
        )
        if result:
            return True, None
        reason = "; ".join(dict.fromkeys(entry.message for entry in result.logs())) or f"apprise: {result.status.name}"
    except Exception as exc:  # noqa: BLE001 (apprise or a plugin failing in a way it did not catch itself)
        reason = f"{type(exc).__name__}: {exc}"
    return False, _shorten(redact(reason, url_secrets(url)))


def _preferred_format(service: object) -> object:
    """What the service renders by default (HTML for email, text for a JSON webhook,
    Markdown for Slack), or what the URL's ?format= asks for."""
    resolve = getattr(service, "resolve_format", None)  # apprise 2: a service may take several formats
    return resolve(None) if resolve else getattr(service, "notify_format", None)


def url_secrets(url: str) -> list[str]:
    """The parts of an apprise URL that may be secret: the whole URL, its password, and
    its path segments and query values (Slack and webhook tokens live there)."""
    parts = urlsplit(url)
    secrets = [url, parts.password or "", unquote(parts.password or "")]
    secrets += [segment for segment in parts.path.split("/") if len(segment) >= 6]
    secrets += [value for _, value in parse_qsl(parts.query) if len(value) >= 6]
    return secrets


def _shorten(text: str) -> str:
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def send_test(ctx: Context, channel_name: str) -> tuple[bool, str | None]:
    """Send a test message to a channel now, outside the outbox (`reviewmon alerts test`).
    NotFound for an unknown channel, MissingSecret when its variable is not set."""
    channel = _channel(ctx, channel_name)
    if channel is None:
        known = ", ".join(c.name for c in ctx.config.alerts.channels) or "none"
        raise NotFound(f"no alert channel named {channel_name!r} (channels: {known})")
    ok, reason = send(channel_url(channel), test_message(channel.name, ctx.clock()))
    ALERTS_SENT.labels(channel=channel.name, outcome="sent" if ok else "failed").inc()
    return ok, reason
