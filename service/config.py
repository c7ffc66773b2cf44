"""Load and validate the TOML config into frozen, typed objects.

Where the file comes from: `--config PATH`, else $REVIEWMON_CONFIG, else ./config.toml.
Every mistake stops the program with a message naming the file and the key (exit 2).
Relative paths resolve against the config file's folder. Secrets never appear in the
file: keys ending in `_env` name environment variables, read only when needed. No business logic.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url

import connectors
from connectors.base import Duration
from connectors.secrets import MissingCredential, env_secret
from service.errors import ConfigError, MissingSecret
from service.schedule import Schedule

DEFAULT_CONFIG = Path("config.toml")
ENV_CONFIG = "REVIEWMON_CONFIG"

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}[0-9]$")


def read_secret(name: str, *, key: str) -> str:
    """The value of environment variable `name` (named by config `key`), or MissingSecret."""
    try:
        return env_secret(name, key=key)
    except MissingCredential as exc:
        raise MissingSecret(str(exc)) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str | None = None
    url_env: EnvName | None = None

    @model_validator(mode="after")
    def _one_of(self) -> DatabaseConfig:
        if self.url and self.url_env:
            raise ValueError("set url or url_env, not both")
        if self.url:
            parsed = make_url(self.url)
            if parsed.password:
                raise ValueError("url holds a password; put the URL in an environment variable and name it with url_env")
        return self


@dataclass(frozen=True)
class Contact:
    """The channel every public reply invites the reviewer to use."""

    value: str
    kind: Literal["email", "phone", "url"]


def _contact(value: str) -> str:
    value = value.strip()
    if not (_EMAIL.match(value) or _URL.match(value) or _PHONE.match(value)):
        raise ValueError("must be an email address, a phone number or an http(s) URL")
    return value


def contact_of(value: str) -> Contact:
    kind = "email" if _EMAIL.match(value) else "url" if _URL.match(value) else "phone"
    return Contact(value, kind)


OptionalContact = Annotated[str | None, AfterValidator(lambda v: _contact(v) if v is not None else None)]
def _titles(value: Any) -> Any:
    """A role as replies name it: one string (in the business's language), or one per language."""
    if isinstance(value, dict):
        for code, title in value.items():
            if not re.fullmatch(r"[a-z]{2}", code) or not isinstance(title, str) or not 0 < len(title) <= 80:
                raise ValueError("give a title of at most 80 characters per two-letter language code, e.g. { en = \"our manager\" }")
    elif value is not None and (not isinstance(value, str) or len(value) > 80):
        raise ValueError("must be a title of at most 80 characters, or a table of them by language")
    return value


Title = Annotated[str | dict[str, str] | None, AfterValidator(_titles)]


@dataclass(frozen=True)
class ReplyChannels:
    """Where the public replies of one source send the reviewer, and who answers serious ones."""

    contact: Contact
    escalation: Contact | None = None
    senior: str | dict[str, str] | None = None  # "our general manager": named in replies to serious reviews
    language: str = "en"  # the language a plain-string title is written in

    def senior_in(self, language: str) -> str:
        """Who answers serious reviews, in a reply in `language` ("" where no title is given in it)."""
        if isinstance(self.senior, dict):
            return self.senior.get(language, "")
        return self.senior or "" if language == self.language else ""

    @property
    def accepted(self) -> tuple[Contact, ...]:
        """The channels the guard accepts in a reply of this source (no other)."""
        return (self.contact,) + ((self.escalation,) if self.escalation and self.escalation != self.contact else ())

    def for_serious(self, serious: bool) -> Contact:
        return self.escalation if serious and self.escalation else self.contact


class BusinessConfig(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, AfterValidator(_contact)]
    escalation_contact: OptionalContact = Field(default=None, description="replies to serious reviews (health, injury, safety, discrimination, legal threats) invite the reviewer here instead")
    escalation_title: Title = Field(default=None, description="who answers serious reviews, as replies name them: 'our general manager' (a role, not a person's name)")
    language: str = Field(default="en", pattern=r"^[a-z]{2}$", description="replies are drafted in the review's language when reply_templates has wordings for it, else in this one")

    @property
    def contact_channel(self) -> Contact:
        return contact_of(self.contact)

    @property
    def channels(self) -> ReplyChannels:
        escalation = contact_of(self.escalation_contact) if self.escalation_contact else None
        return ReplyChannels(self.contact_channel, escalation, self.escalation_title, self.language)


class SentimentConfig(_Strict):
    negative_threshold: float = Field(default=-0.05, ge=-1, le=1, description="text with compound <= this reads negative")
    strong_negative_threshold: float = Field(default=-0.5, ge=-1, le=1, description="flags a 4-5 star review when its text is this negative")
    text_model: bool = Field(default=True, description="weigh the sentence rule's readings and the review's words with the bundled text model; false: the sentence rule alone decides")

    @model_validator(mode="after")
    def _ordered(self) -> SentimentConfig:
        if self.strong_negative_threshold > self.negative_threshold:
            raise ValueError("strong_negative_threshold must not be above negative_threshold")
        return self


class RepliesConfig(_Strict):
    templates_dir: Path | None = Field(default=None, description="your own reply templates; default: the bundled ones")
    cooling_off: Duration = Field(default=timedelta(hours=1), description="a reply to a negative review is posted no sooner than this after the review arrived")
    second_approver: bool = Field(default=False, description="the approver must not be the person who last edited the draft")
    followup_after: Duration = Field(default=timedelta(days=7), description="approved cases without a resolved follow-up are listed after this long")


_KEYWORDS = tomllib.loads((Path(__file__).parent / "default_keywords.toml").read_text(encoding="utf-8"))
DEFAULT_ESCALATION: dict[str, list[str]] = _KEYWORDS["escalation"]  # reasons -> keywords (service/default_keywords.toml)


class EscalationConfig(_Strict):
    """Reviews that mention these go to the top and need an owner: keyword lists by reason."""

    keywords: dict[str, list[str]] = Field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_ESCALATION.items()})


DEFAULT_TOPICS: dict[str, list[str]] = _KEYWORDS["topics"]  # topic -> keywords, the same matching


class TopicsConfig(_Strict):
    """What negative reviews are about, for the trends: keyword lists by topic."""

    keywords: dict[str, list[str]] = Field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_TOPICS.items()})


def _public_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", value, re.IGNORECASE):
        raise ValueError("must be the address people open, e.g. https://reviews.example.com")
    return value


def _addresses(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)") from None
    return values


class WebConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key_env: EnvName | None = Field(default=None, description="signs session cookies; unset: a new key each start (everyone logs in again)")
    public_url: Annotated[str | None, AfterValidator(_public_url)] = Field(default=None, description="the address people open; https:// makes the session cookie Secure; its host is the one /healthz and /metrics answer for")
    trusted_proxies: Annotated[list[str], AfterValidator(_addresses)] = Field(default_factory=list, description="reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are believed")
    session_idle: Duration = Field(default=timedelta(hours=2), ge=timedelta(minutes=1), description="a session not used for this long ends")
    session_max_age: Duration = Field(default=timedelta(hours=24), ge=timedelta(minutes=1), description="a session ends this long after its login, used or not")
    login_attempts: int = Field(default=5, ge=1, description="failed logins from one address for one name within lockout; then that address may not try that name until they age out")
    login_attempts_per_address: int = Field(default=20, ge=1, description="failed logins from one address, whatever the names, within lockout; then that address may not log in until they age out")
    lockout: Duration = Field(default=timedelta(minutes=15), ge=timedelta(seconds=1), description="how long a failed login counts against its address and name")
    login_delay: Duration = Field(default=timedelta(seconds=2), le=timedelta(seconds=30), description="once a name has login_attempts failures within lockout from any addresses, each further wrong answer for it waits this long (a right password never waits)")

    @property
    def public_host(self) -> str | None:
        return urlsplit(self.public_url).hostname if self.public_url else None

    @property
    def https(self) -> bool:
        return bool(self.public_url and self.public_url.lower().startswith("https://"))


class ApiConfig(_Strict):
    """The JSON API (/api/v1) for programs with a token."""

    requests_per_minute: int = Field(default=120, ge=1, le=100_000, description="requests one token may make per minute (a bucket of this many, refilled evenly); more answer 429 with Retry-After")


class PollConfig(_Strict):
    """How sources are polled: how many at once, how due times are spread, how failures back off."""

    concurrency: int = Field(default=16, ge=1, le=1000, description="sources a poll polls at once (shared by its processes)")
    processes: int = Field(default=0, ge=0, le=64, description="processes one `reviewmon poll` uses; 0: one per core, when there are enough sources to keep them busy")
    per_host: int = Field(default=4, ge=1, le=100, description="requests in flight to one platform host, per process")
    jitter: Duration = Field(default=timedelta(minutes=5), description="at most this (and a tenth of the schedule's gap) is added to each due time")
    max_backoff: Duration = Field(default=timedelta(hours=6), description="a failing source waits at most this long between tries (or its schedule's gap, if longer)")
    tick: Duration = Field(default=timedelta(seconds=15), description="how often `serve` and `worker` look for due sources")
    lease_grace: Duration = Field(default=timedelta(minutes=2), description="a claim lasts the source's time_budget plus this; then another process may take it")
    keep_runs: Duration = Field(default=timedelta(days=90), ge=timedelta(days=1), description="how long each poll and backfill stays in `reviewmon runs`; a source's older runs go at its next poll")


ALERT_EVENTS = ("negative", "escalated", "source_failing", "source_recovered", "drafts_waiting", "failed_logins", "daily_report",
                "weekly_report")


class AlertChannelConfig(_Strict):
    """Where alerts go: an apprise URL (mailto://, slack://, json://, ...) read from an
    environment variable, since such URLs hold passwords and tokens."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    url_env: EnvName
    events: list[Literal[ALERT_EVENTS]] = Field(default_factory=lambda: ["negative", "escalated", "source_failing", "source_recovered", "drafts_waiting", "failed_logins"])  # type: ignore[valid-type]
    digest: Duration | None = Field(default=None, description="group alerts over this window into one message; unset: one message each")


class AlertsConfig(_Strict):
    source_failures: int = Field(default=3, ge=1, description="alert when a source fails this many polls in a row")
    drafts_waiting: Duration = Field(default=timedelta(hours=24), description="alert when a draft has waited this long for an owner")
    max_age: Duration = Field(default=timedelta(days=3), description="reviews written longer ago than this raise no alert when first seen (a first poll, a backfill)")
    attempts: int = Field(default=8, ge=1, description="delivery tries before an alert is recorded as failed")
    failed_logins: int = Field(default=10, ge=1, description="alert when one user's name has had this many failed logins within an hour (once a day per name)")
    report_at: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="UTC time of day the daily and weekly reports go out")
    channels: list[AlertChannelConfig] = []

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[AlertChannelConfig]) -> list[AlertChannelConfig]:
        names = [c.name for c in channels]
        if len(names) != len(set(names)):
            raise ValueError("two alert channels have the same name")
        return channels


_SOURCE_KEYS = ("name", "type", "schedule", "location", "enabled", "time_budget", "contact", "escalation_contact",
                "escalation_title")


def platform_name(type_name: str | None, configured: str = "") -> str:
    """Where a source's reviews are published, as a person names it: the `platform` its
    owner configured (file, jsonld, sample sources), else its type's platform ("Google",
    "App Store"), else the type itself."""
    return configured or connectors.capabilities_of(type_name).platform.removeprefix("the ") or type_name or ""


class SourceConfig(_Strict):
    """A [[sources]] table: the common keys, and every other key as the connector's options."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    type: str
    schedule: Schedule = Schedule.parse("1h")
    location: str | None = None
    enabled: bool = True
    time_budget: Duration = Field(default=timedelta(minutes=5), description="the most one poll of this source may take, retries included")
    contact: OptionalContact = Field(default=None, description="replies to this source's reviews invite the reviewer here instead of [business] contact (a branch's own address)")
    escalation_contact: OptionalContact = Field(default=None, description="as [business] escalation_contact, for this source")
    escalation_title: Title = Field(default=None, description="as [business] escalation_title, for this source")
    options: Any = None  # the connector's Options model, validated by parse()

    @property
    def platform(self) -> str:
        return platform_name(self.type, getattr(self.options, "platform", "") or "")

    def reply_channels(self, business: BusinessConfig) -> ReplyChannels:
        """This source's channels: its own where set, else the business's."""
        base = business.channels
        return ReplyChannels(
            contact_of(self.contact) if self.contact else base.contact,
            contact_of(self.escalation_contact) if self.escalation_contact else base.escalation,
            self.escalation_title or base.senior,
            base.language,
        )

    @model_validator(mode="before")
    @classmethod
    def _gather_options(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        common = {k: v for k, v in data.items() if k in _SOURCE_KEYS}
        return {**common, "options": {k: v for k, v in data.items() if k not in _SOURCE_KEYS}}

    def connect(self, client: Any) -> Any:
        """This source's connector on the shared HTTP client, within its time budget. May
        raise AuthError at once when a credential it needs is not set."""
        return connectors.get(self.type)(self.options, http=self.http(client))

    def http(self, client: Any) -> Any:
        """This source's `Http` on the shared client: its time budget, and the inside
        addresses its configured URLs name (the only ones its requests may reach)."""
        from connectors.http import Http
        from connectors.netguard import configured_inside_hosts

        values = self.options.model_dump().values() if hasattr(self.options, "model_dump") else ()
        inside = configured_inside_hosts(values)
        return Http(client, budget=self.time_budget.total_seconds(), inside_hosts=inside)

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return Schedule.parse(value) if isinstance(value, str) else value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if not connectors.known(value):
            raise ValueError(f"unknown source type {value!r}; known: {', '.join(connectors.names())}")
        return value


def _with_connector_options(config: Config, base_dir: Path) -> tuple[Config, list[dict[str, Any]]]:
    """Validate each source's options against its connector; errors keep their key path."""
    errors: list[dict[str, Any]] = []
    sources = []
    for index, source in enumerate(config.sources):
        try:
            options = connectors.get(source.type).Options.model_validate(source.options or {})
        except ValidationError as exc:
            errors += [{**e, "loc": ("sources", index, *e["loc"])} for e in exc.errors()]
            continue
        relative = {
            name: base_dir / value for name, value in options if isinstance(value, Path) and not value.is_absolute()
        }
        sources.append(source.model_copy(update={"options": options.model_copy(update=relative)}))
    return config.model_copy(update={"sources": sources}), errors


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    business: BusinessConfig
    sentiment: SentimentConfig = SentimentConfig()
    replies: RepliesConfig = RepliesConfig()
    escalation: EscalationConfig = EscalationConfig()
    web: WebConfig = WebConfig()
    api: ApiConfig = ApiConfig()
    topics: TopicsConfig = TopicsConfig()
    poll: PollConfig = PollConfig()
    alerts: AlertsConfig = AlertsConfig()
    sources: list[SourceConfig] = []

    path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}")
            seen.add(source.name)
        return sources

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def database_url(self) -> str:
        """The SQLAlchemy URL, with a relative SQLite path resolved against the config folder."""
        url = (
            read_secret(self.database.url_env, key="database.url_env")
            if self.database.url_env
            else self.database.url or "sqlite:///reviewmon.db"
        )
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            db_path = Path(parsed.database)
            if not db_path.is_absolute():
                parsed = parsed.set(database=str(self.base_dir / db_path))
        return parsed.render_as_string(hide_password=False)

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"{self.path}: no source named {name!r} (sources: {', '.join(s.name for s in self.sources) or 'none'})")

    def platform_of(self, source_name: str, source_type: str | None) -> str:
        """The platform a person would name for the source (platform_name); for a source no
        longer configured, its stored type's."""
        for source in self.sources:
            if source.name == source_name:
                return source.platform
        return platform_name(source_type)

    def reply_channels(self, source_name: str | None) -> ReplyChannels:
        """The channels of the named source's replies (the business's for a source no longer configured)."""
        for source in self.sources:
            if source.name == source_name:
                return source.reply_channels(self.business)
        return self.business.channels

    def templates_dir(self) -> Path | None:
        directory = self.replies.templates_dir
        if directory is not None and not directory.is_absolute():
            directory = self.base_dir / directory
        return directory


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ[ENV_CONFIG]) if os.environ.get(ENV_CONFIG) else DEFAULT_CONFIG


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config; ConfigError with every problem otherwise."""
    file = config_path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = " (copy config.example.toml to config.toml, or pass --config)" if file == DEFAULT_CONFIG else ""
        raise ConfigError(f"{file}: no such config file{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse(data, path=file.resolve())


def parse(data: dict[str, Any], *, path: Path | None = None) -> Config:
    base_dir = path.parent if path else Path.cwd()
    try:
        config = Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(error, path, data) for error in exc.errors())) from None
    config, errors = _with_connector_options(config, base_dir)
    if errors:
        raise ConfigError("\n".join(_describe(error, path, data) for error in errors))
    return config


def _describe(error: Any, path: Path | None, data: dict[str, Any]) -> str:
    loc = list(error["loc"])
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    if loc and loc[0] == "sources" and len(loc) > 1 and isinstance(loc[1], int):
        try:
            key = key.replace(f"sources[{loc[1]}]", f"sources[{loc[1]}] ({data['sources'][loc[1]]['name']})", 1)
        except (KeyError, IndexError, TypeError):
            pass
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "missing (required)"
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return f"{path or '<config>'}: {key or '(top level)'}: {message}"
