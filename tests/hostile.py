"""Hypothesis strategies for hostile platform data (issue 6), and the checks every
connector's output must pass whatever it was fed.

A hostile record starts as a documented, valid one (from the tests' builder modules) and
has one to three of its fields, at any depth, removed or replaced by something a buggy or
malicious platform might send: a wrong type, a huge or NUL-laden string, a lone
surrogate, a number too big for a float, NaN, a deeply nested value, a date in an odd
format. Sometimes the whole record is replaced by a non-object."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from connectors import base
from connectors.base import ReviewData, RowError

HUGE_TEXT = "é" * (base.MAX_TEXT_CHARS + 1)  # over the review text limit: a row error
LONG_TEXT = "ł" * (base.MAX_FIELD_CHARS * 3)  # over the short-field limit: cut, not refused
LONG_ID = "i" * 300  # over the 255-character id limit

ODD_DATES = [
    "", " ", "yesterday", "2026-13-45T00:00:00Z", "2026-02-30", "1700000000", "1700000000000",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31 23:59:59", "0000-00-00 00:00:00",
    "2026-11-20T12:00:00.123456789Z", "2026-11-20t12:00:00z", "20261120T120000", "2026-11-20 12:00:00",
    "Fri, 20 Nov 2026 12:00:00 GMT", "2026-11-20T12:00:00+25:00", "2026-W47-5", "\x00", "2026-11-20\x00",
    "２０２６-11-20", "2026-11-20T12:00:00\ud800",
]
NASTY_STRINGS = [
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\ufeff", "\u202e", "\r\n", "<script>alert(1)</script>", "{{ 7*7 }}",
    "NaN", "Infinity", "-1", "4.5", " 5 ", "FIVE", "STAR_RATING_UNSPECIFIED", "0x10", "1e400", "null", "[]", "{}",
    "(Translated by Google)" + "\n" * 3000 + "x", "(Original)\n", "\t", "_:b0", "http://[", "javascript:alert(1)",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([10**400, -(10**400), 2**63, -1, 0, 6, 4.5, 1e308, -1e308, 5e-324]),
    st.text(max_size=20), st.sampled_from(NASTY_STRINGS), st.sampled_from(ODD_DATES),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zs", "Lo"]), max_size=8),  # surrogates, controls
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def nested(depth: int, leaf: Any = "deep") -> Any:
    for level in range(depth):
        leaf = {"n": leaf} if level % 2 else [leaf]
    return leaf


hostile_values = st.one_of(
    json_values,
    st.sampled_from([HUGE_TEXT, LONG_TEXT, LONG_ID]),
    st.sampled_from([40, 70, 200]).map(nested),  # past jsonld's 32 levels and sanitize's 64
)
not_objects = st.one_of(scalars, st.lists(json_values, max_size=3), hostile_values.filter(lambda v: not isinstance(v, dict)))


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> Any:
    """`valid` with one to three fields removed or replaced by hostile values."""
    if draw(st.integers(0, 9)) == 0:
        return draw(not_objects)  # a list, a string, a number where the record should be
    record = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(record))
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        holder = record
        for step in parents:
            holder = holder[step]
        if draw(st.booleans()) and isinstance(holder, dict):
            del holder[last]
        else:
            holder[last] = draw(hostile_values)
    return record


# --- what every connector's output must satisfy -----------------------------------------


def _storable(text: str) -> bool:
    return "\x00" not in text and not base._LONE_SURROGATE.search(text)


def _walk_storable(value: Any, depth: int = 0) -> None:
    assert depth <= base.MAX_RAW_DEPTH + 1, "raw nested past MAX_RAW_DEPTH"
    if isinstance(value, str):
        assert _storable(value), f"raw holds NUL or a lone surrogate: {value[:60]!r}"
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str) and _storable(key)
            _walk_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk_storable(item, depth + 1)
    else:
        assert value is None or isinstance(value, bool | int | float), type(value)


def check_review(review: ReviewData) -> None:
    assert isinstance(review, ReviewData)
    assert isinstance(review.external_id, str) and review.external_id.strip() and len(review.external_id) <= 255
    assert isinstance(review.text, str) and len(review.text) <= base.MAX_TEXT_CHARS
    for name in ("external_id", "text", "title", "author", "location", "url", "owner_reply", "language", "translation"):
        value = getattr(review, name)
        assert value is None or (isinstance(value, str) and _storable(value)), (name, value)
    for name in ("title", "author", "location"):
        value = getattr(review, name)
        assert value is None or len(value) <= base.MAX_FIELD_CHARS, name
    assert review.rating is None or (type(review.rating) is int and 1 <= review.rating <= 5), review.rating
    for name in ("created_at", "updated_at"):
        value = getattr(review, name)
        assert value is None or (isinstance(value, datetime) and value.utcoffset() is not None), (name, value)
    _walk_storable(review.raw)


def check_error(error: RowError) -> None:
    assert isinstance(error, RowError)
    assert isinstance(error.where, str) and error.where and _storable(error.where)
    assert isinstance(error.message, str) and error.message and _storable(error.message)
    assert len(error.message) < 2_000, "a row error's message repeats a huge value"
    _walk_storable(error.raw)


def check_page(reviews: list[ReviewData], errors: list[RowError], *, records: int, valid: dict[str, ReviewData]) -> None:
    """No record silently dropped, every valid one read exactly as when read alone, and
    everything that came out storable."""
    for review in reviews:
        check_review(review)
    for error in errors:
        check_error(error)
    assert len(reviews) + len(errors) == records, (len(reviews), len(errors), records, [str(e) for e in errors])
    by_id = {r.external_id: r for r in reviews}
    for external_id, alone in valid.items():
        assert by_id.get(external_id) == alone, f"valid review {external_id} lost or changed by its neighbours"
