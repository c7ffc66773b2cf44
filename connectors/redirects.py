"""Redirects, followed one hop at a time by `Http` so that each hop is checked.

A hop may stay on the host of the URL first asked for: the same host, or the same with
`www.` added or dropped, on the same port, or moved from http to https (onto the
default port). Anything else is Refused, naming only the target's host: a page that
redirects to 127.0.0.1, to a metadata address or to another site is not read. The
credentials (the Auth's headers, and the caller's own headers) go on only to exactly the
host they were sent to first: a `www.` hop gets none. The address a hop resolves to is
checked again when it connects (connectors/netguard.py).
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.errors import BadResponse, Refused

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
BODY_KEYS = ("content", "data", "files", "json")


def is_redirect(response: httpx.Response) -> bool:
    return response.status_code in REDIRECTS and "Location" in response.headers


def _site(host: str) -> str:
    return host.lower().rstrip(".").removeprefix("www.")


def target(response: httpx.Response) -> httpx.URL:
    """Where a redirect points, resolved against the URL that answered."""
    try:
        return response.request.url.join(response.headers["Location"].strip())
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise BadResponse(f"{response.request.url.host} answered {response.status_code} with an unreadable Location") from None


def check(start: httpx.URL, hop: httpx.URL) -> None:
    """Refused unless `hop` stays on the host of `start` (see the module's rules)."""
    name = hop.host or "an unnamed host"
    if hop.scheme not in ("http", "https") or not hop.host or _site(hop.host) != _site(start.host):
        raise Refused(f"refused a redirect to another host ({name}): a redirect may only stay on the configured host")
    if start.scheme == "https" and hop.scheme == "http":
        raise Refused(f"refused a redirect from https to plain http ({name})")
    if hop.port != (start.port if hop.scheme == start.scheme else None):
        raise Refused(f"refused a redirect to another port of {name}")


def method_after(status: int, method: str) -> str:
    """303 turns anything but HEAD into GET, and 301/302 a POST (as browsers do); 307 and
    308 keep the method and its body."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET"
    return method


def carried(kwargs: dict[str, Any], *, keep_body: bool, keep_headers: bool) -> dict[str, Any]:
    """What of a request's arguments the next hop sends: never `params` (the Location
    has its own query), the body only when the method stays, the caller's headers only
    on the same host."""
    hop = {k: v for k, v in kwargs.items() if k != "params" and (keep_body or k not in BODY_KEYS)}
    if not keep_headers:
        hop.pop("headers", None)
    return hop
