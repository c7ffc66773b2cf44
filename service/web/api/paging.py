"""Paging of the API's lists: `limit` and an opaque `cursor`; each page says where the
next one starts in `next` (a URL), null on the last page.

The cursor is keyset, not an offset: it holds the sort key of the page's last row (base64
of a small JSON object), and the next page starts just past it. A review or draft that
arrives while a program pages through a list neither shifts a row into the next page
twice nor pushes one out unseen. A cursor that does not decode is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from service.errors import ReviewmonError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class BadCursor(ReviewmonError):
    pass


def encode(list_name: str, key: Any) -> str:
    raw = json.dumps({"list": list_name, "after": key}, separators=(",", ":"), default=_iso)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode(cursor: str | None, list_name: str) -> Any:
    """The key a cursor of `list_name` holds (None for no cursor: the first page)."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        if not isinstance(data, dict) or data.get("list") != list_name:
            raise ValueError(list_name)
        return data["after"]
    except (ValueError, KeyError, UnicodeDecodeError, binascii.Error):
        raise BadCursor(f"this cursor is not one of the {list_name} list's: pass the `next` URL of a page as it is") from None


def moment_and_id(key: Any, list_name: str) -> tuple[datetime, int]:
    """A cursor's key of a list ordered by a time and an id."""
    try:
        moment, row_id = key
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(key)
        return at, row_id
    except (TypeError, ValueError):
        raise BadCursor(f"this cursor is not one of the {list_name} list's: pass the `next` URL of a page as it is") from None


def page(request: Request, rows: Iterable[dict[str, Any]], limit: int, list_name: str,
         key: Callable[[dict[str, Any]], Any]) -> JSONResponse:
    """`rows`: up to limit + 1 rows in the list's order (one more tells that a next page exists)."""
    items = list(rows)
    more = len(items) > limit
    items = items[:limit]
    following = None
    if more:
        following = str(request.url.include_query_params(cursor=encode(list_name, key(items[-1]))))
    return JSONResponse(jsonable_encoder({"items": items, "next": following}))


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
