"""Read an answer's body as a stream, within a limit counted after decompression.

httpx reads a whole body before anyone can look at its size, and its gzip decoder
inflates each 64 KB piece it is given in one go (a gzip bomb turns that into 64 MB at
once). Here the raw bytes are inflated a slice at a time, counted, and the answer is
abandoned the moment it passes its limit: the memory a poll holds for one answer is its
limit, whatever the platform sends. Content-Length is checked before anything is read.

We ask only for gzip and deflate (ACCEPT_ENCODING), the encodings zlib can inflate in
bounded slices; an answer in another encoding is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

from connectors.base import size_text
from connectors.errors import BadResponse, TooLarge

ACCEPT_ENCODING = "gzip, deflate"
SLICE = 64 * 1024  # at most this much inflated output per step


class _Inflater:
    """gzip or deflate, inflated SLICE bytes at a time."""

    def __init__(self, encoding: str):
        self._deflate = encoding == "deflate"
        self._started = False
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else 16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._zlib.decompress(data, SLICE)
            except zlib.error as exc:
                if self._deflate and not self._started:  # "deflate" sent raw, without its zlib header
                    self._zlib, self._started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise BadResponse(f"the answer's compressed body is damaged ({exc})") from None
            self._started = True
            yield out
            data = self._zlib.unconsumed_tail


def _decoder(response: httpx.Response) -> _Inflater | None:
    codings = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater("deflate" if codings[0] == "deflate" else "gzip")
    raise BadResponse(f"the answer is encoded as {', '.join(codings)[:60]}; we asked only for {ACCEPT_ENCODING}")


def declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


async def read(response: httpx.Response, limit: int, *, cut: bool = False) -> httpx.Response:
    """The answer with its whole body read (decoded), as a plain httpx.Response. Past
    `limit` bytes: TooLarge, or with `cut` the first `limit` bytes (an error answer,
    of which only the start is looked at). The caller closes `response`."""
    length = declared_length(response)
    if not cut and length is not None and length > limit:
        raise TooLarge(f"the answer is {length:,} bytes; the limit is {size_text(limit)}, so it was not read")
    body = bytearray()
    try:
        decoder = _decoder(response)
        async for raw in response.aiter_raw():
            for piece in decoder.feed(raw) if decoder is not None else [raw]:
                if len(body) + len(piece) > limit:
                    if cut:
                        body += piece[: limit - len(body)]
                        return _with_body(response, bytes(body))
                    raise TooLarge(f"the answer passed {size_text(limit)} (the limit), so it was abandoned there")
                body += piece
    except BadResponse:
        if not cut:
            raise
    return _with_body(response, bytes(body))


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """A finished Response holding the decoded body (so no header says it is compressed)."""
    dropped = {"content-encoding", "content-length", "transfer-encoding"}
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request,
                          extensions={k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")})
