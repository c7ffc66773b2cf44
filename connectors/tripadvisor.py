"""Tripadvisor: the latest reviews of one location from the Content API.

One request per poll: `GET /api/v1/location/{location_id}/reviews?key=...&language=...`.
The API returns only the 5 most recent reviews of a location, in the language asked
for, so no poll is ever a full listing: `complete` is never set and older reviews are
never marked removed. Poll often enough that no more than 5 new reviews arrive between
polls, or some are never seen. There is nothing to page or resume; the cursor only
records the newest publication time seen. Reviews carry no update time.

The key travels in the `key` URL parameter (redacted from every error). Tripadvisor
refuses every call with "User is not authorized to access this resource" unless the
key is restricted to the calling server's IP address in the developer portal: restrict
it to this server's public IP. Whether that refusal is a 401 or a 403 is unverified:
a 401 is an AuthError naming the key's variable, a 403 NotAuthorised with the
platform's reason and this hint.

Owner responses are read when present (documented as null or an object with `text`;
a plain string is accepted too). There is no reply API outside the Management Center
and enterprise partners, so this connector does not reply.

A review with `is_machine_translated: true` carries Tripadvisor's translation into
`language`, not the reviewer's words, which the API does not send: it is stored as a
translation (`translation`, which the sentiment pass and the escalation marks read when
there is no original) with an empty `text`, so nobody quotes machine output as what the
reviewer wrote. `title` is kept as sent; `lang` is stored as the review's language.

Not verified: the status and body of the IP refusal and of an unknown location id
(400 and 404 are both taken as "the platform refused this location"); the shape of
`owner_response`; whether `lang` of a machine-translated review names the original's
language or the translation's; whether its title is translated too; the quota (~5,000
free calls a month). See shared/platform-apis.md section 6.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pydantic import Field

from connectors import base
from connectors.base import Capabilities, InvalidRecord, Page, ReviewData, RowError
from connectors.errors import ConnectorError, NotAuthorised
from connectors.http import Http, json_body, require
from connectors.paging import latest_seen
from connectors.secrets import env_secret

IP_HINT = "Tripadvisor refuses keys that are not restricted to the calling server's IP address; check the key's IP allow-list"


class TripadvisorOptions(base.Options):
    location_id: str = Field(pattern=r"^[0-9]{1,20}$", description="the number after -d in the location's Tripadvisor URL")
    api_key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable holding the Content API key")
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?$", description="e.g. en, de, zh_TW")
    base_url: str = Field(default="https://api.content.tripadvisor.com", pattern=r"^https?://", description="a proxy or test server may stand in")


class QueryKey:
    """The Content API's key is a URL parameter, not a header. As the source's Auth it
    adds nothing to requests; it makes a refused key name its variable and stay redacted."""

    def __init__(self, value: str, *, env_name: str):
        self._value = value
        self.hint = f"check the key in the environment variable {env_name}; {IP_HINT}"

    async def headers(self, http: Http) -> dict[str, str]:
        return {}

    async def refresh(self, http: Http) -> None:
        """A fixed key cannot be refreshed."""

    def secrets(self) -> Iterable[str]:
        return [self._value]


def language_code(value: Any) -> str | None:
    """ "en", "zh_TW", "pt-BR" as the ISO 639-1 part ("en", "zh", "pt")."""
    if not isinstance(value, str) or not value.strip():
        return None
    return re.split(r"[_-]", value.strip())[0].lower()[:16] or None


def owner_reply(value: Any) -> str | None:
    """The owner's response: null, an object with `text`, or (tolerated) a plain string."""
    if isinstance(value, Mapping):
        value = value.get("text")
    return base.optional_text(value, "owner_response", limit=base.MAX_TEXT_CHARS)


def review_from_tripadvisor(record: Mapping[str, Any], *, language: str) -> ReviewData:
    """Normalise one entry of `data`; raises InvalidRecord."""
    user = record.get("user")
    user = user if isinstance(user, Mapping) else {}
    text = base.review_text(record.get("text"))
    machine = record.get("is_machine_translated") is True  # the text is Tripadvisor's translation, not the original
    return ReviewData(
        external_id=base.external_id(record.get("id")),
        text="" if machine else text,
        translation=(text or None) if machine else None,
        rating=base.star_rating(record.get("rating")),
        title=base.optional_text(record.get("title"), "title"),
        author=base.optional_text(user.get("username"), "user.username"),
        created_at=base.timestamp(record.get("published_date"), "published_date"),
        url=base.optional_text(record.get("url"), "url"),
        owner_reply=owner_reply(record.get("owner_response")),
        language=language_code(record.get("lang")) or language_code(language),
        raw=base.sanitize(dict(record)),
    )


class TripadvisorConnector:
    Options = TripadvisorOptions
    capabilities = Capabilities(platform="Tripadvisor", can_reply=False,
                                history="the Content API lists only the 5 most recent reviews of a location, never older ones")

    def __init__(self, options: TripadvisorOptions, *, http: Http):
        self.options = options
        self.http = http
        self._key = env_secret(options.api_key_env, key="sources.api_key_env")
        http.add_secrets(self._key)
        http.auth = QueryKey(self._key, env_name=options.api_key_env)

    def reviews_url(self) -> str:
        return f"{self.options.base_url.rstrip('/')}/api/v1/location/{self.options.location_id}/reviews"

    async def _read(self) -> list[Any]:
        params = {"key": self._key, "language": self.options.language}
        try:
            response = await self.http.request("GET", self.reviews_url(), params=params, allow=(400, 404))
        except NotAuthorised as exc:
            raise NotAuthorised(f"{exc}; {IP_HINT}") from exc
        if response.status_code in (400, 404):
            raise ConnectorError(self.http.redact(
                f"Tripadvisor refused location {self.options.location_id} ({response.status_code}): {self.http.reason(response)}"))
        body = json_body(response)
        require(isinstance(body, Mapping) and "data" in body,
                self.http.redact(f"Tripadvisor's answer has no 'data' list: {self.http.reason(response)}"))
        entries = body["data"] or []
        require(isinstance(entries, list), "Tripadvisor's 'data' is not a list")
        return entries

    async def fetch(self, cursor: Mapping[str, Any] | None) -> AsyncIterator[Page]:
        page = Page()
        for index, entry in enumerate(await self._read(), start=1):
            try:
                if not isinstance(entry, Mapping):
                    raise InvalidRecord(f"expected an object, got {type(entry).__name__}")
                page.reviews.append(review_from_tripadvisor(entry, language=self.options.language))
            except InvalidRecord as exc:
                page.errors.append(RowError(f"review {index}", str(exc), raw=base.sanitize(entry)))
        page.cursor = latest_seen(cursor, page.reviews)
        yield page  # the 5 most recent reviews: never a complete listing
