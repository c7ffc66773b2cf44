"""The words of alert messages: a title, a plain-text body and, where it helps, an HTML one.

Whatever a reviewer or a platform wrote is untrusted. In plain text, control characters
and terminal escapes are shown as visible `\\x1b`-style escapes (service.output.visible),
so a review cannot rewrite the terminal or the mail client that shows it; in HTML it is
passed to Jinja2 templates with autoescaping on, as data, never as a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from service.output import visible, web_link

TEXT_LIMIT = 500  # characters of a review's text in an alert
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    body_html: str | None = None


def plain(value: Any, limit: int | None = None) -> str:
    """Untrusted text for a plain-text body: escapes made visible, shortened to `limit`."""
    text = visible(value).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def one_line(value: Any, limit: int = 80) -> str:
    """Untrusted text for a title or a list line: one line, shortened."""
    return plain(" ".join(str(value or "").split()), limit)


def stars(rating: int | None) -> str:
    return f"{'★' * rating}{'☆' * (5 - rating)} ({rating}/5)" if rating else "no rating"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
_env.filters["plain"] = plain
_env.filters["stars"] = stars
_env.filters["when"] = when


def render_html(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)


@dataclass(frozen=True)
class ReviewFacts:
    """What an alert about one review says."""

    review_id: int
    source: str
    location: str | None
    rating: int | None
    author: str | None
    title: str | None
    text: str
    written_at: datetime | None
    url: str | None
    reason: str | None  # the sentiment pass's reason
    escalation: str | None
    draft_id: int | None


def review_message(facts: ReviewFacts, event: str) -> Message:
    escalated = event == "escalated"
    kind = "Escalated review" if escalated else "Negative review"
    who = one_line(facts.author or "anonymous", 40)
    title = f"{kind} on {facts.source}: {stars(facts.rating)} by {who}"
    if escalated and facts.escalation:
        title = f"{kind} on {facts.source} ({one_line(facts.escalation, 60)}) by {who}"
    where = f", location {one_line(facts.location, 60)}" if facts.location else ""
    lines = [
        f"{kind} on {facts.source}{where}: {stars(facts.rating)} by {who}, written {when(facts.written_at)}.",
        "",
    ]
    if facts.title:
        lines.append(plain(facts.title, 200))
    lines += [plain(facts.text, TEXT_LIMIT) or "(no text)", ""]
    if facts.reason:
        lines.append(f"Why it was flagged: {plain(facts.reason, 300)}")
    if facts.escalation:
        lines.append(f"Escalated (an owner must handle it): {plain(facts.escalation, 300)}")
    lines.append(f"Reply: {reply_pointer(facts.review_id, facts.draft_id)}")
    url = web_link(facts.url)
    if url:
        lines.append(f"On the platform: {plain(url, 500)}")
    html = render_html("review.html", kind=kind, facts=facts, who=who, url=url,
                       reply=reply_pointer(facts.review_id, facts.draft_id), limit=TEXT_LIMIT)
    return Message(title=title, body="\n".join(lines), body_html=html)


def reply_pointer(review_id: int, draft_id: int | None) -> str:
    if draft_id is None:
        return f"no draft (run `reviewmon reviews show {review_id}`)"
    return f"open /drafts/{draft_id} in the web app, or run `reviewmon drafts show {draft_id}`"


def source_failing_message(name: str, failures: int, since: datetime, error: str | None) -> Message:
    return Message(
        title=f"Source {name} is failing ({failures} polls in a row)",
        body=(f"Polls of source {name} have failed {failures} times in a row since {when(since)}.\n\n"
              f"Last error: {plain(error or 'unknown', 500)}\n\n"
              "Run `reviewmon sources` to see its health; reviews are not collected from it until it works again."),
    )


def source_recovered_message(name: str, failures: int, since: datetime, now: datetime) -> Message:
    return Message(
        title=f"Source {name} works again",
        body=(f"Source {name} was polled successfully at {when(now)}, after {failures} failed polls "
              f"since {when(since)}. Reviews from it are collected again."),
    )


def draft_waiting_message(draft_id: int, review_id: int, source: str, author: str | None, rating: int | None,
                          created_at: datetime, now: datetime) -> Message:
    hours = (now - created_at).total_seconds() / 3600
    waited = f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"
    who = one_line(author or "anonymous", 40)
    return Message(
        title=f"A reply has waited {waited} for an owner ({source}, {who})",
        body=(f"The reply drafted at {when(created_at)} to the review by {who} ({stars(rating)}) on {source} "
              f"has not been approved or rejected for {waited}.\n\nReply: {reply_pointer(review_id, draft_id)}"),
    )


def failed_logins_message(name: str, count: int, first: datetime, last: datetime,
                          addresses: Sequence[tuple[str, int]]) -> Message:
    shown = ", ".join(f"{one_line(address, 64)} ({n})" for address, n in addresses[:10])
    more = f" and {len(addresses) - 10} more" if len(addresses) > 10 else ""
    who = one_line(name, 60)
    return Message(
        title=f"{count} failed logins for user {who} in the last hour",
        body=(f"The web app refused {count} logins as {who} between {when(first)} and {when(last)}, "
              f"from {len(addresses)} address{'es' if len(addresses) != 1 else ''}: {shown}{more}.\n\n"
              "If that was not them, someone is guessing the password. Each address is slowed down on its own, "
              "and the right password still works from elsewhere. `reviewmon users list` shows recent failures; "
              f"`reviewmon users passwd {who}` sets a new password, `reviewmon users logout-everywhere {who}` "
              "ends their sessions."),
    )


def test_message(channel: str, now: datetime) -> Message:
    return Message(
        title="reviewmon test message",
        body=f"This is a test message from reviewmon to channel {channel}, sent at {when(now)}. Alerts will arrive here.",
    )


def digest_message(parts: Sequence[Message], events: Sequence[str]) -> Message:
    """Several alerts of one channel as one message."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event] = counts.get(event, 0) + 1
    summary = ", ".join(f"{n} {event.replace('_', ' ')}" for event, n in counts.items())
    title = f"reviewmon: {len(parts)} alerts ({summary})"
    rule = "\n\n" + "-" * 40 + "\n\n"
    body = rule.join(f"{part.title}\n\n{part.body}" for part in parts)
    sections = [
        # body_html was made by render_html() (escaped when it was made); plain bodies are escaped here
        (part.title, Markup(part.body_html) if part.body_html else Markup("<pre>{}</pre>").format(part.body))
        for part in parts
    ]
    html = render_html("digest.html", title=title, sections=sections)
    return Message(title=title, body=body, body_html=html)
