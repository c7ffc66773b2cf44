"""Draft public replies from the Jinja2 wordings in reply_templates/<language>/<family>/.

A wording is chosen by what the review is (family_of: an ordinary complaint, a serious
one, a rating without text, a mixed 3-star one), in the review's language when there are
wordings in it (else the business's), stably per review, and short enough for the
platform's limit. Templates are trusted files; everything that came from a platform is
not. So the sandboxed environment renders template files only, never text from a review,
and the only reviewer detail a template sees is a first name that passed `first_name()`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from connectors.base import Capabilities, ReplyLimit
from service.config import BusinessConfig, ConfigError, Contact, ReplyChannels, SourceConfig
from service.reading import language
from service.replies.guard import PolicyResult, check_reply
from service.resources import reply_templates_dir

if TYPE_CHECKING:
    from service.context import Context

FAMILIES = ("complaint", "serious", "rating_only", "mixed")
LEGACY = "negative"  # templates_dir of an older reviewmon: one folder of wordings for every review

_PLAIN_NAME = re.compile(r"(?:[^\W\d_]{1,3}['’])?[^\W\d_]{2,30}(?:[-'’][^\W\d_]{2,30})?")
_NOT_NAMES = frozenset(
    "anonymous anon customer guest user reviewer admin unknown none null google apple yelp visitor "
    "traveller traveler client someone mr mrs ms miss dr sir madam the and app store play".split()
)


def first_name(author: str | None) -> str | None:
    """The reviewer's first name if the display name starts with a plain one, else None."""
    if not author or not author.strip():
        return None
    token = author.strip().split()[0].rstrip(".,")
    if not _PLAIN_NAME.fullmatch(token) or token.casefold() in _NOT_NAMES:
        return None
    return token.capitalize() if token.islower() or token.isupper() else token


def family_of(*, rating: int | None, has_text: bool, escalation: str | None) -> str:
    """Which kind of wording fits the review: serious ones first, whatever their stars."""
    if escalation:
        return "serious"
    if not has_text:
        return "rating_only"
    return "mixed" if rating == 3 else "complaint"


def reach_us(contact: Contact) -> str:
    """The English invitation phrase, for wordings written before the _reach_us.j2 macros."""
    return {
        "email": f"email us at {contact.value}",
        "phone": f"call us on {contact.value}",
        "url": f"get in touch through {contact.value}",
    }[contact.kind]


@dataclass(frozen=True)
class DraftRequest:
    """What the drafter may know of a review: never its text."""

    key: str  # stable per review: "source:external id"
    author: str | None
    platform: str
    limit: ReplyLimit | None
    family: str = "complaint"
    language: str | None = None  # the review's language, as detected
    source: str | None = None  # whose channels the reply gives

    @classmethod
    def for_review(cls, *, source: str, external_id: str, author: str | None, rating: int | None, title: str | None,
                   text: str | None, escalation: str | None, detected_language: str | None,
                   capabilities: Capabilities) -> DraftRequest:
        """The request for a stored or incoming review: its kind and its likely language,
        read here once for the poller and the desk alike; its words go no further."""
        has_text = bool((text or "").strip() or (title or "").strip())
        return cls(key=f"{source}:{external_id}", author=author, platform=capabilities.platform,
                   limit=capabilities.reply_limit, family=family_of(rating=rating, has_text=has_text, escalation=escalation),
                   language=language.likely("\n".join(filter(None, (title, text))), detected_language), source=source)


@dataclass(frozen=True)
class DraftText:
    text: str
    template: str
    policy: PolicyResult
    note: str = ""  # which language, and why


class ReplyDrafter:
    """Renders and checks drafts; build once per process (templates are compiled once)."""

    def __init__(self, business: BusinessConfig, templates_dir: Path | None = None,
                 sources: Sequence[SourceConfig] = ()):
        self.business = business
        self.sources = {source.name: source for source in sources}
        directory = templates_dir or reply_templates_dir()
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=False,  # plain text for platforms; HTML pages escape it when shown
        )
        self.wordings: dict[tuple[str, str], list[str]] = {}
        for name in sorted(self.env.list_templates(extensions=["j2"])):
            parts = name.split("/")
            if len(parts) == 3 and parts[1] in FAMILIES:
                self.wordings.setdefault((parts[0], parts[1]), []).append(name)
            elif len(parts) == 2 and parts[0] == LEGACY:
                for family in FAMILIES:
                    self.wordings.setdefault((LEGACY, family), []).append(name)
        if not self.wordings:
            raise ConfigError(f"{directory}: no reply templates (expected <language>/<family>/*.j2)")

    def channels(self, source: str | None) -> ReplyChannels:
        found = self.sources.get(source or "")
        return found.reply_channels(self.business) if found else self.business.channels

    def pick_language(self, language: str | None, family: str) -> tuple[str, str]:
        """(folder of wordings, why): the review's language, else the business's, else English."""
        if language and (language, family) in self.wordings:
            return language, f"the review's language ({language})"
        missing = f"no wordings in the review's language ({language})" if language else "the review's language is unknown"
        for code, whose in ((self.business.language, "the business's language"), ("en", "English"),
                            (LEGACY, "the templates_dir wordings")):
            if (code, family) in self.wordings:
                return code, f"{whose}; {missing}"
        raise ConfigError(f"no reply wordings for {family!r} reviews in {language}, {self.business.language} or en")

    def next_wording(self, template: str | None, request: DraftRequest) -> str:
        """The wording after `template` in its own family and language (drafts regenerate)."""
        folder, _ = self.pick_language(request.language, request.family)
        names = self.wordings[(folder, request.family)]
        if template in names:
            return names[(names.index(template) + 1) % len(names)]
        return names[self._index(request.key, names)]

    @staticmethod
    def _index(key: str, names: Sequence[str]) -> int:
        """The same wording for the same review, spread evenly over the wordings."""
        return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % len(names)

    def render(self, template: str, *, first_name: str | None, platform: str, channels: ReplyChannels | None = None,
               serious: bool = False) -> str:
        channels = channels or self.business.channels
        contact = channels.for_serious(serious)
        text = self.env.get_template(template).render(
            first_name=first_name, business_name=self.business.name, contact=contact.value, contact_kind=contact.kind,
            reach_us=reach_us(contact), senior=channels.senior_in(template.split("/")[0]), platform=platform,
        )
        lines = [line.rstrip() for line in text.strip().splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))

    def check(self, text: str, limit: ReplyLimit | None, *, source: str | None = None,
              language: str | None = None) -> PolicyResult:
        return check_reply(text, channels=self.channels(source).accepted, business_name=self.business.name,
                           limit=limit, language=language)

    def draft(self, request: DraftRequest, template: str | None = None) -> DraftText:
        """The review's wording, rendered and checked; the first that fits the platform's limit."""
        folder, why = self.pick_language(request.language, request.family)
        names = self.wordings[(folder, request.family)]
        start = names.index(template) if template in names else self._index(request.key, names)
        order = [names[(start + step) % len(names)] for step in range(len(names))]
        if template and template not in names:
            order.insert(0, template)
        name = first_name(request.author)
        made = (self._draft(t, name, request.platform, request.limit, request.source, request.family == "serious")
                for t in order)
        first = next(made)
        fitting = first if first.policy.ok else next((m for m in made if m.policy.ok), first)
        return DraftText(fitting.text, fitting.template, fitting.policy, f"in {folder}: {why}")

    @lru_cache(maxsize=4096)  # noqa: B019 (one drafter per process, kept for its life)
    def _draft(self, template: str, name: str | None, platform: str, limit: ReplyLimit | None, source: str | None,
               serious: bool) -> DraftText:
        """Drafts differ only by these: a large import drafts the same few hundred texts
        again and again, and checking each against the guard was a sixth of its CPU."""
        channels = self.channels(source)
        text = self.render(template, first_name=name, platform=platform, channels=channels, serious=serious)
        verdict = self.check(text, limit, source=source, language=template.split("/")[0])
        if not verdict.ok and name is not None:
            plain = self.render(template, first_name=None, platform=platform, channels=channels, serious=serious)
            plain_verdict = self.check(plain, limit, source=source, language=template.split("/")[0])
            if plain_verdict.ok:
                text, verdict = plain, plain_verdict
        return DraftText(text, template, verdict)


def drafter_of(ctx: Context) -> ReplyDrafter:
    """The process's drafter (its templates are compiled once)."""
    return ctx.helper("drafter", lambda: ReplyDrafter(ctx.config.business, ctx.config.templates_dir(), ctx.config.sources))
