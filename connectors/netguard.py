"""Which addresses a request may reach: never one inside the network (loopback, private,
link-local, cloud metadata, ...) unless the configuration names that address itself.

A page we poll is written by someone else: it may redirect, or its name may resolve, to
127.0.0.1 or 169.254.169.254, and what answers there is not a review. So the check is
made where the connection is opened, on every address the name resolves to (a name that
resolves to one inside address is refused whole), and the connection goes to the address
checked, not to a second lookup. The TLS handshake still names the host (SNI and the
certificate check are httpcore's, from the URL), and the Host header is the URL's.

A configured URL whose host is itself an inside address or `localhost` (a test server,
a self-hosted page) may be reached: `Http` marks those requests with INSIDE_OK, and
PoliteTransport gives them an unguarded pool of their own.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from connectors.errors import Refused

INSIDE_OK = "reviewmon.inside_ok"
"""Request extension: this request's host is an inside address the configuration names."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway


def _embedded(address: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def inside(address: str | IPAddress) -> bool:
    """True for every address that is not plainly on the public internet: loopback,
    private, shared (CGNAT), link-local (169.254.169.254 is the metadata service of most
    clouds), unique-local (fd00:ec2::254 is AWS's), multicast, reserved, unspecified."""
    parsed = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    carried = _embedded(parsed)
    if carried is not None and inside(carried):
        return True
    return (not parsed.is_global or parsed.is_multicast or parsed.is_private or parsed.is_loopback
            or parsed.is_link_local or parsed.is_reserved or parsed.is_unspecified)


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def names_inside(host: str) -> bool:
    """The host is written as an inside address, or is `localhost` (loopback by definition)."""
    host = host.lower().rstrip(".")
    address = literal(host)
    return host == "localhost" or host.endswith(".localhost") or (address is not None and inside(address))


def configured_inside_hosts(values: Iterable[Any]) -> frozenset[str]:
    """Of the http(s) URLs among a source's option values, the hosts written as inside
    addresses: the only inside hosts its requests may reach."""
    hosts = set()
    for value in values:
        for text in value if isinstance(value, list | tuple) else [value]:
            if isinstance(text, str) and text.lower().startswith(("http://", "https://")):
                try:
                    host = httpx.URL(text).host
                except httpx.InvalidURL:
                    continue
                if names_inside(host):
                    hosts.add(host)
    return frozenset(hosts)


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a test may put its own resolver here)."""
    found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, refusing inside addresses: resolves the host once,
    checks every address, then connects to a checked address."""

    def __init__(self, *, inside_ok: bool = False, inner: httpcore.AsyncNetworkBackend | None = None):
        self._inside_ok = inside_ok  # the host is an inside address the configuration names
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        if self._inside_ok:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            with anyio.fail_after(timeout):
                addresses = [host] if literal(host) else await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses or any(inside(a) for a in addresses):
            raise Refused(f"refused to connect to {host}: it is, or resolves to, an address inside a private network "
                          "(loopback, private, link-local or cloud metadata); only a configured URL written as such "
                          "an address may reach one")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise Refused("refused to connect to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
