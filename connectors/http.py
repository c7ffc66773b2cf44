"""How connectors talk HTTP: the one client factory, and `Http`, a connector's polite,
patient and discreet view of it.

- polite: a User-Agent naming reviewmon and its version, timeouts on every request,
  at most PER_HOST requests in flight to one host (PoliteTransport);
- patient: 429, 5xx and network errors are retried with exponential backoff and
  jitter (stamina), honouring Retry-After or the platform's reset header, but never
  past the source's time budget;
- credentials: a 401 refreshes the token once and tries again; a second 401 is an
  AuthError naming what to fix; a 403 is NotAuthorised with the platform's reason;
- discreet: secrets are redacted from every message it raises, and of an error answer
  only the platform's documented error fields are quoted, never the raw body;
- guarded: every body is read as a stream and abandoned past its limit (bodies.py);
  redirects are followed by hand, each hop checked (redirects.py); no connection goes
  to an address inside the network unless the configuration names it (netguard.py).
Statuses a connector wants to handle itself are passed in `allow`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpcore
import httpx
import stamina

from connectors import bodies, redirects
from connectors.errors import (
    AuthError,
    BadResponse,
    ConnectorError,
    NotAuthorised,
    RateLimited,
    Refused,
    TooLarge,
    TransientError,
)
from connectors.netguard import INSIDE_OK, GuardedBackend
from connectors.secrets import redact

USER_AGENT = "reviewmon/{version} (+https://github.com/reviewmon/reviewmon)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEFAULT_BUDGET = 300.0  # seconds one source may spend, retries and waits included
PER_HOST = 4
ATTEMPTS = 6
MAX_BODY_BYTES = 5 * 1024 * 1024
"""An answer's body, counted decompressed; past it the answer is abandoned (TooLarge)."""
ERROR_BODY_BYTES = 64 * 1024
"""Of an error answer (or a redirect) only this much is read: its error fields are short."""
REASON_FIELD_CHARS = 200


class Auth(Protocol):
    """Credentials for one platform: headers to send, and a way to get fresh ones."""

    hint: str  # what to fix when the platform refuses them, e.g. "check GOOGLE_REFRESH_TOKEN"

    async def headers(self, http: Http) -> dict[str, str]: ...

    async def refresh(self, http: Http) -> None: ...

    def secrets(self) -> Iterable[str]: ...


LANE: ContextVar[str | None] = ContextVar("reviewmon_http_lane", default=None)
"""The source a request is made for (set by the poller around each source's poll)."""
LANE_CONNECTIONS = 2  # a source reads its pages one after another: one connection, and one spare


class PoliteTransport(httpx.AsyncBaseTransport):
    """At most `per_host` requests in flight to any one host; connect errors retried;
    no connection to an address inside the network, unless the request is marked
    INSIDE_OK (its host is one the configuration names): those get pools of their own.

    Connections are pooled per host *and per source* (the `LANE` of the request): each
    source reads its pages in sequence over its own kept-alive connection. httpcore's pool
    does work in proportion to the connections and waiting requests it holds for every
    request it assigns, so one pool shared by hundreds of concurrent sources spent ten
    times more CPU on bookkeeping than on the requests (bench/poll_many.py). Requests
    outside a lane (posting replies) share one pool per host."""

    def __init__(self, per_host: int = PER_HOST):
        self._per_host = per_host
        self._ssl = httpx.create_ssl_context()  # one for every pool: building one costs milliseconds
        self._pools: dict[tuple[str, str | None, bool], httpx.AsyncHTTPTransport] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _pool(self, origin: str, lane: str | None, inside_ok: bool) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get((origin, lane, inside_ok))
        if pool is None:
            size = LANE_CONNECTIONS if lane is not None else self._per_host
            pool = self._pools[(origin, lane, inside_ok)] = httpx.AsyncHTTPTransport(verify=self._ssl)
            # httpx takes no network backend: its pool is made again, the same but for ours.
            if not isinstance(getattr(pool, "_pool", None), httpcore.AsyncConnectionPool):
                raise RuntimeError("httpx's transport no longer keeps an httpcore pool in _pool: see connectors/netguard.py")
            pool._pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl, max_connections=size, max_keepalive_connections=size, retries=2,
                network_backend=GuardedBackend(inside_ok=inside_ok))
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        limit = self._limits.setdefault(origin, asyncio.Semaphore(self._per_host))
        async with limit:
            pool = self._pool(origin, LANE.get(), bool(request.extensions.get(INSIDE_OK)))
            return await pool.handle_async_request(request)

    async def close_lane(self, lane: str) -> None:
        """Close the connections of a source whose poll is over."""
        for key in [k for k in self._pools if k[1] == lane]:
            await self._pools.pop(key).aclose()

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


@asynccontextmanager
async def lane(transport: httpx.AsyncBaseTransport | None, name: str) -> AsyncIterator[None]:
    """Requests made inside go over the connections of source `name`, closed at the end."""
    token = LANE.set(name)
    try:
        yield
    finally:
        LANE.reset(token)
        if isinstance(transport, PoliteTransport):
            await transport.close_lane(name)


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """The AsyncClient every connector shares during a poll."""
    from service import __version__

    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("transport", PoliteTransport())
    kwargs.setdefault("follow_redirects", False)  # Http follows them, hop by hop
    headers = {"User-Agent": USER_AGENT.format(version=__version__), "Accept-Encoding": bodies.ACCEPT_ENCODING,
               **kwargs.pop("headers", {})}
    return httpx.AsyncClient(headers=headers, **kwargs)


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the platform asks us to wait: Retry-After (seconds or HTTP date), else a
    reset header (RateLimit-ResetTime as ISO 8601, X-RateLimit-Reset as epoch seconds)."""
    now = now or datetime.now(timezone.utc)
    value = response.headers.get("Retry-After", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
        except (TypeError, ValueError, IndexError):
            pass
    reset = response.headers.get("RateLimit-ResetTime", "").strip()
    if reset:
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            return max(0.0, (when.astimezone(timezone.utc) - now).total_seconds())
        except ValueError:
            pass
    epoch = response.headers.get("X-RateLimit-Reset", "").strip()
    if epoch.isdigit():
        return max(0.0, float(epoch) - now.timestamp())
    return None


def error_fields(response: httpx.Response) -> list[str]:
    """The platform's own words for an error: the JSON error fields the platforms
    document, as text; none for anything else. Never the raw body: an error page may be
    anything (a proxy's page, an internal host's), and reasons are shown to everyone who
    can see the sources."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    if isinstance(error, dict):  # Google, Yelp, Trustpilot
        parts = [error.get(k) for k in ("status", "code", "message", "description")]
    elif isinstance(error, str):  # OAuth
        parts = [error, body.get("error_description")]
    elif isinstance(body.get("errors"), list) and body["errors"] and isinstance(body["errors"][0], dict):  # App Store Connect
        parts = [body["errors"][0].get(k) for k in ("code", "title", "detail")]
    else:  # a plain message; Tripadvisor's gateway writes it "Message"
        parts = [body.get("message") if "message" in body else body.get("Message")]
    return [str(p) for p in parts if isinstance(p, str | int) and not isinstance(p, bool) and str(p).strip()]


def one_line(text: str, limit: int) -> str:
    """`text` on one line, without control characters, at most `limit` characters."""
    return shorten(" ".join("".join(c if c.isprintable() else " " for c in text).split()), limit)


def shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Http:
    """One source's HTTP during one poll (or one reply): retries within a time budget,
    auth refresh, error mapping and redaction, bodies within limits, redirects checked.
    Build it with the shared client; `inside_hosts` are the hosts of the source's
    configured URLs written as inside addresses (netguard.configured_inside_hosts):
    the only inside addresses its requests may reach."""

    def __init__(
        self, client: httpx.AsyncClient, *, budget: float = DEFAULT_BUDGET, auth: Auth | None = None,
        secrets: Iterable[str] = (), clock: Any = time.monotonic, inside_hosts: Iterable[str] = (),
    ):
        self.client = client
        self.budget = budget
        self.auth = auth
        self._secrets = list(secrets)
        self._clock = clock
        self._deadline = clock() + budget
        self._inside_hosts = frozenset(inside_hosts)

    def add_secrets(self, *values: str) -> None:
        self._secrets += [v for v in values if v]

    def redact(self, text: str) -> str:
        secrets = list(self._secrets) + (list(self.auth.secrets()) if self.auth else [])
        return redact(text, secrets)

    def reason(self, response: httpx.Response) -> str:
        """The platform's error fields, each with secrets removed (a platform may echo a
        token), then cut short; or a plain word that it gave none."""
        fields = [one_line(self.redact(f), REASON_FIELD_CHARS) for f in error_fields(response)]
        return shorten(": ".join(f for f in fields if f)) or "the platform gave no error message"

    def remaining(self) -> float:
        return self._deadline - self._clock()

    def restart_budget(self) -> None:
        """Give the source its whole time budget again: a backfill, which may take hours,
        spends one budget per page (as it holds its lease one budget at a time)."""
        self._deadline = self._clock() + self.budget

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return json_body(await self.request("GET", url, **kwargs))

    async def request(
        self, method: str, url: str, *, auth: Auth | None | bool = True, allow: Collection[int] = (),
        max_bytes: int | None = None, **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; return the response if it is 2xx/3xx or its status is in
        `allow`; otherwise raise the matching ConnectorError. auth=False sends none. A
        body over `max_bytes` (default MAX_BODY_BYTES) raises TooLarge."""
        use_auth = self.auth if auth is True else (auth or None)
        limit = MAX_BODY_BYTES if max_bytes is None else max_bytes
        refreshed = False
        while True:
            response = await self._follow(method, url, use_auth, allow, limit, kwargs)
            if response.status_code == 401 and use_auth is not None and not refreshed and 401 not in allow:
                await use_auth.refresh(self)
                refreshed = True
                continue
            if response.status_code < 400 or response.status_code in allow:
                return response
            raise self._error(response, use_auth, refreshed)

    async def _follow(self, method: str, url: str, auth: Auth | None, allow: Collection[int], limit: int,
                      kwargs: dict[str, Any]) -> httpx.Response:
        """_send, then each redirect hop by hand: only on the configured host, and the
        credentials only to the very host they were first sent to."""
        response = await self._send(method, url, auth, allow, limit, kwargs)
        start = response.request.url
        for _ in range(redirects.MAX_REDIRECTS):
            if not redirects.is_redirect(response) or response.status_code in allow:
                return response
            hop = redirects.target(response)
            redirects.check(start, hop)
            next_method = redirects.method_after(response.status_code, method)
            same_host = hop.host == start.host
            if not same_host and self.redact(str(hop)) != str(hop):  # the Location itself carries a key or token
                raise Refused(f"refused a redirect that would carry a credential to another host ({hop.host})")
            kwargs = redirects.carried(kwargs, keep_body=next_method == method, keep_headers=same_host)
            method, auth = next_method, auth if same_host else None
            response = await self._send(method, str(hop), auth, allow, limit, kwargs)
        if redirects.is_redirect(response) and response.status_code not in allow:
            raise ConnectorError(self.redact(f"more than {redirects.MAX_REDIRECTS} redirects from {start}; not followed"))
        return response

    async def _send(self, method: str, url: str, auth: Auth | None, allow: Collection[int], limit: int,
                    kwargs: dict[str, Any]) -> httpx.Response:
        remaining = self.remaining()
        if remaining <= 0:
            raise TransientError(self.redact(f"this source's time budget of {self.budget:.0f}s ran out before {method} {url}"))
        response: httpx.Response | None = None
        async for attempt in stamina.retry_context(
            on=self._retry_wait, attempts=ATTEMPTS, timeout=remaining, wait_initial=1.0, wait_max=60.0, wait_jitter=1.0
        ):
            with attempt:
                headers = dict(kwargs.get("headers") or {})
                if auth is not None:
                    headers.update(await auth.headers(self))
                try:
                    response = await self._exchange(self.client.build_request(method, url, **{**kwargs, "headers": headers}), limit)
                except httpx.TimeoutException as exc:
                    raise TransientError(self.redact(f"timed out: {method} {url}")) from exc
                except httpx.TransportError as exc:
                    raise TransientError(self.redact(f"could not reach {method} {url}: {exc}")) from exc
                except TooLarge as exc:
                    raise TooLarge(self.redact(f"{method} {url}: {exc}; nothing from it was stored")) from None
                status = response.status_code
                if status == 429 and 429 not in allow:
                    raise RateLimited(self.redact(f"rate limited (429) at {method} {url}: {self.reason(response)}"), retry_after(response))
                if status >= 500 and status not in allow:
                    raise TransientError(self.redact(f"server error {status} at {method} {url}"))
        assert response is not None
        return response

    async def _exchange(self, request: httpx.Request, limit: int) -> httpx.Response:
        """Send one request and read its body as a stream, within `limit` (an error
        answer: only its start)."""
        if request.url.host in self._inside_hosts:
            request.extensions[INSIDE_OK] = True
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            if response.status_code < 300:
                return await bodies.read(response, limit)
            return await bodies.read(response, ERROR_BODY_BYTES, cut=True)
        finally:
            await response.aclose()

    def _retry_wait(self, exc: Exception) -> bool | float:
        """stamina's hook: retry transient errors; wait as long as the platform asked,
        unless that is longer than the budget left (then give up now, loudly)."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            if exc.retry_after > self.remaining():
                exc.args = (f"{exc.args[0]}; the platform asks to wait {exc.retry_after:.0f}s, more than this source's time budget left",)
                return False
            return exc.retry_after
        return isinstance(exc, TransientError)

    def _error(self, response: httpx.Response, auth: Auth | None, refreshed: bool) -> ConnectorError:
        status = response.status_code
        where = f"{response.request.method} {response.request.url}"
        reason = self.reason(response)
        if status == 401:
            fix = f"; {auth.hint}" if auth is not None else ""
            again = " even after refreshing the token" if refreshed else ""
            return AuthError(self.redact(f"credentials refused (401){again} at {where}: {reason}{fix}"))
        if status == 403:
            return NotAuthorised(self.redact(f"not authorised (403) at {where}: {reason}"))
        return ConnectorError(self.redact(f"unexpected answer {status} at {where}: {reason}"))


def json_body(response: httpx.Response) -> Any:
    """The body as JSON whatever the Content-Type says (some feeds send text/javascript)."""
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as exc:  # ValueError: also a number of 4,300+ digits
        raise BadResponse(f"{redact(str(response.request.url))} did not answer with JSON: {exc}") from exc


def require(condition: bool, message: str) -> None:
    """Raise BadResponse when a page is not shaped as the platform documents."""
    if not condition:
        raise BadResponse(message)


__all__ = ["Auth", "BadResponse", "ConnectorError", "Http", "json_body", "make_client", "require", "retry_after"]
