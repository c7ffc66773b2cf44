"""The only place connectors get an httpx client from, and where HTTP failures become
ConnectorErrors (connectors/errors.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.errors import AuthError, BadResponse, ConnectorError, RateLimited, TransientError

USER_AGENT = "reviewmon/{version} (+https://github.com/reviewmon/reviewmon)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """An AsyncClient with reviewmon's User-Agent, timeouts and connect retries."""
    from service import __version__

    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("transport", httpx.AsyncHTTPTransport(retries=2))
    kwargs.setdefault("follow_redirects", True)
    headers = {"User-Agent": USER_AGENT.format(version=__version__), **kwargs.pop("headers", {})}
    return httpx.AsyncClient(headers=headers, **kwargs)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


async def get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    """GET `url`; network failures become TransientError (the cause is chained)."""
    try:
        return await client.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientError(f"timed out reading {url}") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"could not reach {url}: {exc}") from exc


def raise_for_status(response: httpx.Response) -> None:
    """Turn an unsuccessful answer into the matching ConnectorError."""
    status = response.status_code
    if status < 400:
        return
    where = f"{response.request.method} {response.request.url}"
    detail = response.text[:200].strip()
    if status == 429:
        raise RateLimited(f"rate limited (429) at {where}", retry_after=_retry_after(response))
    if status in (401, 403):
        raise AuthError(f"access refused ({status}) at {where}: {detail}")
    if status >= 500:
        raise TransientError(f"server error {status} at {where}")
    raise ConnectorError(f"unexpected answer {status} at {where}: {detail}")


def json_body(response: httpx.Response) -> Any:
    """The body as JSON whatever the Content-Type says (some feeds send text/javascript)."""
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadResponse(f"{response.request.url} did not answer with JSON: {exc}") from exc
