"""A real HTTP server on 127.0.0.1 (or another loopback address) serving canned responses,
for end-to-end tests that go through httpx, sockets and all (not through respx): feeds,
and what a hostile platform sends (bombs, redirects, error pages).

An answer's body is bytes, or a function giving its pieces (written as they come, for
bodies too big to hold); without a length it is sent close-delimited, as servers may."""

from __future__ import annotations

import json
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int
    body: bytes | Callable[[], Iterable[bytes]]
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/javascript; charset=utf-8"})
    length: bool = True  # send Content-Length (only for a bytes body)


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) of every request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.hits[self.path] += 1
                server.requests.append((self.path, dict(self.headers.items())))
                answer = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0], Answer(404, b"not found"))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if isinstance(answer.body, bytes) and answer.length:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    for piece in [answer.body] if isinstance(answer.body, bytes) else answer.body():
                        self.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up on it: as it should
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve_json(self, path: str, body: Any, status: int = 200) -> None:
        self.routes[path] = Answer(status, json.dumps(body).encode("utf-8"))

    def serve(self, path: str, body: bytes | Callable[[], Iterable[bytes]], *, status: int = 200,
              content_type: str = "text/html; charset=utf-8", length: bool = True, **headers: str) -> None:
        """Any answer; extra headers as keyword arguments (Content_Encoding="gzip")."""
        named = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
        self.routes[path] = Answer(status, body, named, length)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Answer(status, b"", {"Location": location})

    def headers_of(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for `path`, lower-cased names."""
        return [{k.lower(): v for k, v in headers.items()} for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def gzip_bomb(size: int, *, level: int = 9) -> bytes:
    """`size` bytes of zeros, gzipped: a small body that unzips to a huge one."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    pieces = [deflate.compress(block) for _ in range(size >> 20)]
    pieces.append(deflate.compress(bytes(size & ((1 << 20) - 1))))
    pieces.append(deflate.flush())
    return b"".join(pieces)
