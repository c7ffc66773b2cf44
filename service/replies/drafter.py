"""Draft public replies from the Jinja2 templates in reply_templates/negative/.

Templates are trusted files; everything that came from a platform is not. So the
sandboxed environment renders template files only, never text from a review, and the
only reviewer detail a template sees is a first name that passed `first_name()`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from connectors.base import ReplyLimit
from service.config import BusinessConfig, ConfigError, Contact
from service.replies.policy import PolicyResult, check_reply
from service.resources import reply_templates_dir

if TYPE_CHECKING:
    from service.context import Context

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


def reach_us(contact: Contact) -> str:
    return {
        "email": f"email us at {contact.value}",
        "phone": f"call us on {contact.value}",
        "url": f"get in touch through {contact.value}",
    }[contact.kind]


@dataclass(frozen=True)
class DraftText:
    text: str
    template: str
    policy: PolicyResult


class ReplyDrafter:
    """Renders and checks drafts; build once per process (templates are compiled once)."""

    def __init__(self, business: BusinessConfig, templates_dir: Path | None = None):
        self.business = business
        directory = templates_dir or reply_templates_dir()
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=False,  # plain text for platforms; HTML pages escape it when shown
        )
        self.templates = sorted(n for n in self.env.list_templates(extensions=["j2"]) if n.startswith("negative/"))
        if not self.templates:
            raise ConfigError(f"{directory}: no reply templates (expected negative/*.j2)")

    def choose(self, key: str) -> str:
        """The same template for the same review, spread evenly over the wordings."""
        digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
        return self.templates[digest % len(self.templates)]

    def render(self, template: str, *, first_name: str | None, platform: str) -> str:
        contact = self.business.contact_channel
        text = self.env.get_template(template).render(
            first_name=first_name,
            business_name=self.business.name,
            contact=contact.value,
            reach_us=reach_us(contact),
            platform=platform,
        )
        lines = [line.rstrip() for line in text.strip().splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))

    def check(self, text: str, limit: ReplyLimit | None) -> PolicyResult:
        return check_reply(text, contact=self.business.contact_channel, business_name=self.business.name, limit=limit)

    def draft(self, *, key: str, author: str | None, platform: str, limit: ReplyLimit | None, template: str | None = None) -> DraftText:
        """Render the review's template and check it; a name that breaks the policy is left out."""
        return self._draft(template or self.choose(key), first_name(author), platform, limit)

    @lru_cache(maxsize=4096)  # noqa: B019 (one drafter per process, kept for its life)
    def _draft(self, template: str, name: str | None, platform: str, limit: ReplyLimit | None) -> DraftText:
        """Drafts differ only by template, first name, platform and limit: a large import
        drafts the same few hundred texts again and again, and checking each against
        the policy was a sixth of its CPU."""
        text = self.render(template, first_name=name, platform=platform)
        verdict = self.check(text, limit)
        if not verdict.ok and name is not None:
            plain = self.render(template, first_name=None, platform=platform)
            plain_verdict = self.check(plain, limit)
            if plain_verdict.ok:
                text, verdict = plain, plain_verdict
        return DraftText(text, template, verdict)


def drafter_of(ctx: Context) -> ReplyDrafter:
    """The process's drafter (its templates are compiled once)."""
    return ctx.helper("drafter", lambda: ReplyDrafter(ctx.config.business, ctx.config.templates_dir()))
