"""Hostile input (issue 6): property-based tests of every connector's parsing and of the
file importer.

Each test feeds a page mixing documented, valid review records with hostile ones (see
tests/hostile.py) through the connector's real `fetch`, served by a fake Http (no
network, no respx: fast enough for hundreds of pages). Whatever the platform sends:
- nothing but the connector's page-level ConnectorError is ever raised;
- every record becomes a ReviewData or a RowError, never silently dropped
  (reviews + errors == records; jsonld's documented de-duplication is kept out of the
  way by giving every hostile node a distinct marker field);
- every valid record comes out exactly as when it is read alone;
- everything that comes out is storable: no NUL, no lone surrogate, limits kept.
Runs are derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors import base
from connectors.appstore import AppStoreFeedConnector, AppStoreOptions
from connectors.appstore_connect import AppStoreConnectConnector, AppStoreConnectOptions
from connectors.errors import BadResponse, ConnectorError
from connectors.file import FileConnector, FileOptions
from connectors.google import GoogleBusinessConnector, GoogleOptions, split_translation
from connectors.googleplay import GooglePlayConnector, GooglePlayOptions
from connectors.http import json_body
from connectors.jsonld import JsonLdConnector, JsonLdOptions, stars
from connectors.sample import SampleConnector, SampleOptions
from connectors.tripadvisor import TripadvisorConnector, TripadvisorOptions
from connectors.trustpilot import TrustpilotConnector, TrustpilotOptions
from connectors.yelp import YelpConnector, YelpOptions, pacific_time
from tests import appstore_connect_api as asc
from tests import appstore_feed as feed
from tests import google_api as gbp
from tests import googleplay_api as play
from tests import jsonld_pages as jl
from tests import trustpilot_api as tp
from tests import yelp_tripadvisor_api as yt
from tests.hostile import (
    check_error,
    check_page,
    check_review,
    hostile_values,
    json_values,
    mutated,
    nested,
)

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
"""too_slow: a few examples carry a 1,000,001-character text on purpose."""


class FakeHttp:
    """Stands in for connectors.http.Http: every request answers 200 with `content`."""

    def __init__(self, content_type: str = "application/json"):
        self.content = b""
        self.content_type = content_type
        self.auth: Any = None

    def add_secrets(self, *secrets: str) -> None:
        pass

    async def request(self, method: str, url: str, **_: Any) -> httpx.Response:
        return httpx.Response(200, content=self.content, headers={"Content-Type": self.content_type},
                              request=httpx.Request(method, url))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return json_body(await self.request("GET", url, **kwargs))

    def reason(self, response: httpx.Response) -> str:
        return "refused"

    def redact(self, text: str) -> str:
        return text

    def remaining(self) -> float:
        return 300.0  # seconds of the source's time budget left


@cache
def connectors() -> dict[str, Any]:
    """One of each HTTP connector, built once (as the poller would) on its own FakeHttp."""
    folder = Path(tempfile.mkdtemp(prefix="reviewmon-props-"))
    key_file = folder / "play.json"
    key_file.write_text(json.dumps({"client_email": "sa@example.iam", "private_key": "-----BEGIN PRIVATE KEY-----\nx\n",
                                    "token_uri": play.TOKEN_URL}), encoding="utf-8")
    env = {**gbp.ENV, "TP_KEY": "tp-key-0123456789", "YELP_KEY": yt.YELP_KEY, "TA_KEY": yt.TA_KEY,
           asc.KEY_ENV: "-----BEGIN PRIVATE KEY-----\\nnot-a-real-key\\n-----END PRIVATE KEY-----"}
    with mock.patch.dict(os.environ, env):
        return {
            "google": GoogleBusinessConnector(GoogleOptions(
                account_id=gbp.ACCOUNT, location_ids=[gbp.LOCATION], base_url=gbp.BASE, token_url=gbp.TOKEN_URL,
                client_id_env="GBP_CLIENT_ID", client_secret_env="GBP_CLIENT_SECRET", refresh_token_env="GBP_REFRESH_TOKEN"),
                http=FakeHttp()),
            "appstore": AppStoreFeedConnector(AppStoreOptions(app_id=feed.APP_ID, base_url=feed.BASE, max_pages=1), http=FakeHttp()),
            "appstoreconnect": AppStoreConnectConnector(AppStoreConnectOptions(
                app_id=asc.APP_ID, key_id=asc.KEY_ID, issuer_id=asc.ISSUER_ID, private_key_env=asc.KEY_ENV, base_url=asc.BASE),
                http=FakeHttp()),
            "googleplay": GooglePlayConnector(GooglePlayOptions(
                package_name=play.PACKAGE, service_account_file=key_file, base_url=play.BASE, token_url=play.TOKEN_URL),
                http=FakeHttp()),
            "trustpilot": TrustpilotConnector(TrustpilotOptions(
                business_unit_id=tp.BUSINESS_UNIT, api_key_env="TP_KEY", base_url=tp.BASE), http=FakeHttp()),
            "yelp": YelpConnector(YelpOptions(business_id=yt.YELP_BUSINESS, api_key_env="YELP_KEY", base_url=yt.YELP_BASE),
                                  http=FakeHttp()),
            "tripadvisor": TripadvisorConnector(TripadvisorOptions(
                location_id=yt.TA_LOCATION, api_key_env="TA_KEY", base_url=yt.TA_BASE), http=FakeHttp()),
            "jsonld": JsonLdConnector(JsonLdOptions(url=jl.PAGE_URL), http=FakeHttp("text/html; charset=utf-8")),
        }


async def _collect(connector: Any) -> tuple[list, list]:
    reviews, errors = [], []
    async for page in connector.fetch(None):
        reviews.extend(page.reviews)
        errors.extend(page.errors)
    return reviews, errors


def read(name: str, content: bytes) -> tuple[list, list]:
    """Every review and row error a poll of the named connector reads from `content`."""
    connector = connectors()[name]
    connector.http.content = content
    return asyncio.run(_collect(connector))


# --- the JSON platforms ----------------------------------------------------------------
# name -> (a valid record numbered n, the page body around a list of records)


def _asc_body(records: list[Any]) -> dict[str, Any]:
    """Each review's response in `included`, when its relationship names one (hostile or not)."""
    included = [asc.response(n) for n in range(1, 21)]  # records are numbered 1 to 8
    return asc.page(records, included=included)


PLATFORMS = {
    "google": (lambda n: gbp.review(n, stars=n % 5 + 1, reply="Thanks!" if n % 2 else None,
                                    comment=gbp.translated(f"Nice {n}", f"Schön {n}") if n % 3 == 0 else ""),
               gbp.listing),
    "appstore": (lambda n: feed.entry(n, rating=n % 5 + 1), feed.feed),
    "appstoreconnect": (lambda n: asc.review(n, rating=n % 5 + 1, replied=n % 2 == 1), _asc_body),
    "googleplay": (lambda n: play.review(n, rating=n % 5 + 1, reply="Thanks" if n % 2 else None,
                                         original=f"Titel\tText {n}" if n % 3 == 0 else None),
                   play.listing),
    "trustpilot": (lambda n: tp.review(n, stars=n % 5 + 1, reply="Thank you" if n % 2 else None), tp.listing),
    "yelp": (lambda n: yt.yelp_review(n, rating=n % 5 + 1), yt.yelp_reviews),
    "tripadvisor": (lambda n: yt.ta_review(n, rating=n % 5 + 1, owner_response=yt.ta_owner_response("Thanks") if n % 2 else None),
                    yt.ta_reviews),
}


@st.composite
def pages(draw: st.DrawFn, valid_record: Any, max_records: int = 8) -> tuple[list[Any], list[int]]:
    """Records 1..k, each valid or a hostile mutation of its valid self (so ids never collide);
    and the numbers of the valid ones."""
    kinds = draw(st.lists(st.booleans(), min_size=1, max_size=max_records))
    records, valid = [], []
    for n, is_valid in enumerate(kinds, start=1):
        if is_valid:
            records.append(valid_record(n))
            valid.append(n)
        else:
            records.append(draw(mutated(valid_record(n))))
    return records, valid


def _valid_alone(name: str, records: list[Any]) -> dict[str, Any]:
    reviews, errors = read(name, json.dumps(PLATFORMS[name][1](records)).encode())
    assert not errors and len(reviews) == len(records), [str(e) for e in errors]
    return {r.external_id: r for r in reviews}


def _check_platform(name: str, data: tuple[list[Any], list[int]]) -> None:
    records, valid_numbers = data
    make, body = PLATFORMS[name]
    valid = _valid_alone(name, [make(n) for n in valid_numbers]) if valid_numbers else {}
    reviews, errors = read(name, json.dumps(body(records)).encode())
    check_page(reviews, errors, records=len(records), valid=valid)


@pytest.mark.parametrize("name", sorted(PLATFORMS))
@PROPERTY
@given(data=st.data())
def test_hostile_records_are_row_errors_and_valid_ones_survive(name, data):
    _check_platform(name, data.draw(pages(PLATFORMS[name][0])))


def test_appstore_metadata_entry_is_skipped_not_counted():
    """The feed's documented app-metadata entry is the one record that yields nothing."""
    reviews, errors = read("appstore", json.dumps(feed.feed([feed.app_metadata_entry(), feed.entry(1)])).encode())
    assert [r.external_id for r in reviews] == ["10000001"] and errors == []


@settings(PROPERTY, max_examples=80)
@given(name=st.sampled_from(sorted(PLATFORMS) + ["jsonld"]),
       body=st.one_of(json_values, hostile_values, st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                      st.sampled_from(["[" * 100_000, "1" * 5_000, '{"reviews": 1' + "0" * 5000 + "}"])))
def test_any_page_envelope_is_read_or_refused_as_a_whole(name, body):
    """A page that is not the documented envelope (not JSON, the wrong shape, a number of
    5,000 digits, nested 100,000 deep) is a ConnectorError, or read as far as it goes;
    never another exception."""
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else json.dumps(body).encode()
    check_read_or_refused(name, content)


def check_read_or_refused(name: str, content: bytes) -> None:
    """Refused as a whole (ConnectorError), or read into valid reviews and row errors."""
    try:
        reviews, errors = read(name, content)
    except ConnectorError:
        return
    for review in reviews:
        check_review(review)
    for error in errors:
        check_error(error)


# --- JSON-LD in web pages ---------------------------------------------------------------


@st.composite
def jsonld_pages(draw: st.DrawFn) -> tuple[list[str], int, dict[str, Any]]:
    """Script blocks: valid reviews (under a business, in an @graph, alone), hostile Review
    nodes one to a block, and blocks that are not JSON at all; how many rows they must give;
    the valid reviews as read alone."""
    blocks, rows, valid_nodes = [], 0, []
    for n, kind in enumerate(draw(st.lists(st.sampled_from(["valid", "hostile", "junk"]), min_size=1, max_size=8)), start=1):
        if kind == "valid":
            node = jl.review(n, rating=n % 5 + 1)
            valid_nodes.append(node)
            blocks.append(jl.block(draw(st.sampled_from([jl.business, lambda r: jl.graph(r), lambda r: r]))(node)))
        elif kind == "hostile":
            node = draw(mutated(jl.review(n)))
            node = node if isinstance(node, dict) else {"reviewBody": node}
            node.update({"@type": "Review", "_row": n})  # a Review still, and never a silent duplicate of another
            blocks.append(jl.block(node))
        else:
            blocks.append('<script type="application/ld+json">{oops ' + draw(st.text(max_size=40)).replace("</", "<\\/") + "</script>")
        rows += 1
    return blocks, rows, valid_nodes


def _html(blocks: list[str]) -> bytes:
    return jl.html(*blocks).encode("utf-8", "surrogatepass")  # a lone surrogate makes the page invalid UTF-8


@PROPERTY
@given(jsonld_pages())
def test_jsonld_hostile_reviews(data):
    blocks, rows, valid_nodes = data
    alone, alone_errors = read("jsonld", _html([jl.block(jl.graph(*valid_nodes))])) if valid_nodes else ([], [])
    assert not alone_errors and len(alone) == len(valid_nodes)
    reviews, errors = read("jsonld", _html(blocks))
    check_page(reviews, errors, records=rows, valid={r.external_id: r for r in alone})


@settings(PROPERTY, max_examples=40)
@given(st.binary(max_size=3000) | st.text(max_size=300).map(lambda t: f'<script type="application/ld+json">{t}</script>'.encode(
    "utf-8", "surrogatepass")))
def test_jsonld_any_html_is_read_without_crashing(content):
    check_read_or_refused("jsonld", content)


# --- the file importer (JSON Lines and CSV) and the sample ------------------------------

FILE_FIELDS = ["id", "text", "rating", "title", "author", "created_at", "updated_at", "location", "url", "reply"]
BAD_LINES = [
    b"\xff\xfe\xfd", b'{"id": "x\xc3(", "text": "bad utf-8"}', b"\x00", b'{"id": "n\x00", "text": "nul"}', b"{", b"[]", b"42",
    b"null", b'"just a string"', b"[" * 100_000, b'{"id": 1, "text": "t", "rating": ' + b"9" * 5000 + b"}",
    b'{"id": 1, "text": "t", "rating": 1' + b"0" * 400 + b"}", b'{"id": 2, "text": "t", "created_at": "0001-01-01T00:00:00+05:00"}',
    b'{"id": 3, "text": "t", "rating": NaN}', b'{"id": 4, "text": "t", "rating": Infinity}', b"\xef\xbb\xbf{}",
    b'{"id": "dup", "text": "a"}', b'{"id": "dup", "text": "b"}',
]


def file_record(n: int) -> dict[str, Any]:
    return {"id": f"valid-{n:04d}", "text": f"Review number {n}, with \"quotes\", commas\nand a second line.",
            "rating": n % 5 + 1, "title": f"Title {n}", "author": f"Guest {n}", "created_at": f"2026-11-{n % 28 + 1:02d}T12:00:00Z",
            "updated_at": None, "location": "Harbour Lane", "url": f"https://reviews.example/{n}", "reply": "Thanks" if n % 2 else None}


def read_file(content: bytes, fmt: str) -> tuple[list, list]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"reviews.{fmt}"
        path.write_bytes(content)
        return asyncio.run(_collect(FileConnector(FileOptions(path=path, page_size=3))))


raw_lines = st.one_of(st.sampled_from(BAD_LINES), st.binary(max_size=60)).map(lambda b: b.replace(b"\n", b""))


@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    lines, records, valid = [], 0, []
    for n, kind in enumerate(draw(st.lists(st.sampled_from(["valid", "hostile", "bytes"]), min_size=1, max_size=10)), start=1):
        if kind == "valid":
            line = json.dumps(file_record(n)).encode()
            valid.append(n)
        elif kind == "hostile":
            line = json.dumps(draw(mutated(file_record(n)))).encode()  # ASCII: surrogates travel as \ud800
        else:
            line = draw(raw_lines)
        if n == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        records += bool(line.strip())  # blank lines are skipped, as documented
        lines.append(line)
    return b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"])), records, valid


def _file_valid_alone(numbers: list[int]) -> dict[str, Any]:
    reviews, errors = read_file(b"\n".join(json.dumps(file_record(n)).encode() for n in numbers), "jsonl")
    assert not errors
    return {r.external_id: r for r in reviews}


@PROPERTY
@given(jsonl_files())
@example((b"\n".join(BAD_LINES), len(BAD_LINES), []))
def test_jsonl_file_hostile_lines(data):
    content, records, valid_numbers = data
    reviews, errors = read_file(content, "jsonl")
    check_page(reviews, errors, records=records, valid=_file_valid_alone(valid_numbers) if valid_numbers else {})


def _cell(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    """A header, then rows: valid, hostile values in the right columns, too few or too many
    cells, text with quotes, newlines, NUL and lone surrogates (invalid UTF-8 once written)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(FILE_FIELDS)
    chunks, records, valid = [out.getvalue().encode()], 0, []
    for n, kind in enumerate(draw(st.lists(st.sampled_from(["valid", "hostile", "cells", "bytes"]), min_size=1, max_size=10)), start=1):
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        if kind == "valid":
            writer.writerow([_cell(file_record(n)[k]) for k in FILE_FIELDS])
            valid.append(n)
        elif kind == "hostile":
            record = draw(mutated(file_record(n)))
            record = record if isinstance(record, dict) else {"id": record}
            writer.writerow([_cell(record.get(k)) for k in FILE_FIELDS])
        elif kind == "cells":
            writer.writerow(draw(st.lists(st.text(max_size=12) | st.sampled_from(["\x00", "\ud800", '"', "\r\n", "é" * 3000]),
                                          min_size=1, max_size=14)))
        else:  # a line of raw bytes: no quote or line break, so it cannot swallow the next rows
            line = draw(st.binary(min_size=1, max_size=40).map(lambda b: bytes(c for c in b if c not in b'"\r\n')))
            out.write((line or b"x").decode("latin-1") + "\r\n")
            chunks.append((line or b"x") + b"\r\n")
            records += 1
            continue
        chunks.append(out.getvalue().encode("utf-8", "surrogatepass"))
        records += 1
    return b"".join(chunks), records, valid


@PROPERTY
@given(csv_files())
def test_csv_file_hostile_rows(data):
    content, records, valid_numbers = data
    reviews, errors = read_file(content, "csv")
    valid = {}
    if valid_numbers:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(FILE_FIELDS)
        for n in valid_numbers:
            writer.writerow([_cell(file_record(n)[k]) for k in FILE_FIELDS])
        alone, alone_errors = read_file(out.getvalue().encode(), "csv")
        assert not alone_errors
        valid = {r.external_id: r for r in alone}
    check_page(reviews, errors, records=records, valid=valid)


@settings(PROPERTY, max_examples=80)
@given(content=st.binary(max_size=2000), fmt=st.sampled_from(["jsonl", "csv"]))
def test_any_file_is_read_or_refused_as_a_whole(content, fmt):
    """Arbitrary bytes: a CSV without id and text columns is BadResponse; otherwise every
    review and row error is storable, and a JSON Lines file gives one of them per line."""
    try:
        reviews, errors = read_file(content, fmt)
    except BadResponse:
        assert fmt == "csv"
        return
    for review in reviews:
        check_review(review)
    for error in errors:
        check_error(error)
    if fmt == "jsonl":
        lines = content.split(b"\n")
        if lines[0].startswith(b"\xef\xbb\xbf"):
            lines[0] = lines[0][3:]
        assert len(reviews) + len(errors) == sum(1 for line in lines if line.strip())


def test_sample_dataset_reads_cleanly():
    """The sample is a file source over a bundled file: every line a storable review."""
    reviews, errors = asyncio.run(_collect(SampleConnector(SampleOptions())))
    assert reviews and not errors
    for review in reviews:
        check_review(review)


# --- regressions found by the properties above ------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_with_no_utc_equivalent_is_a_row_error(value):
    with pytest.raises(base.InvalidRecord, match="outside the years"):
        base.timestamp(value, "createdAt")
    with pytest.raises(base.InvalidRecord, match="outside the years"):
        pacific_time("9999-12-31 23:00:00", "time_created")


def test_a_rating_too_big_for_a_float_is_a_row_error():
    with pytest.raises(base.InvalidRecord):
        base.star_rating(10**400)
    with pytest.raises(base.InvalidRecord):
        stars({"ratingValue": 10**400})
    with pytest.raises(base.InvalidRecord):  # inf / inf on the way to 1-5 stars
        stars({"ratingValue": 1.7e308, "bestRating": 1.7e308, "worstRating": -1.7e308})


def test_raw_is_cut_below_max_depth_instead_of_exhausting_the_stack():
    raw = base.sanitize({"deep": nested(5_000)})
    depth, node = 0, raw
    while isinstance(node, dict | list):
        node = node["deep"] if depth == 0 else node["n"] if isinstance(node, dict) else node[0]
        depth += 1
    assert node == base.TOO_DEEP and depth == base.MAX_RAW_DEPTH
    assert base.sanitize({"a": [{"b": "\x00"}]}) == {"a": [{"b": "\ufffd"}]}  # shallow ones unchanged but cleaned


def test_a_page_with_a_number_of_5000_digits_is_bad_response_and_a_jsonl_line_with_one_a_row_error():
    reviews, errors = read_file(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "t", "rating": ' + b"9" * 5000 + b"}\n", "jsonl")
    assert [r.external_id for r in reviews] == ["a"] and [e.where for e in errors] == ["line 2"]
    with pytest.raises(BadResponse):
        read("trustpilot", b'{"reviews": [], "total": ' + b"9" * 5000 + b"}")


def test_appstore_attributes_that_are_not_objects_are_ignored():
    entry = feed.entry(1)
    entry["link"]["attributes"] = "not an object"
    entry["content"] = [{"label": "text", "attributes": ["x"]}]
    reviews, errors = read("appstore", json.dumps(feed.feed([entry])).encode())
    assert not errors and reviews[0].text == "text" and reviews[0].url.startswith("https://apps.apple.com/")


def test_appstoreconnect_included_that_is_not_a_list_loses_only_the_replies():
    body = asc.page([asc.review(1, replied=True)])
    body["included"] = 5
    reviews, errors = read("appstoreconnect", json.dumps(body).encode())
    assert not errors and reviews[0].owner_reply is None


def test_jsonld_url_no_parser_reads_is_no_url():
    node = jl.review(1, url="http://[oops", **{"@id": "http://[oops"})
    reviews, errors = read("jsonld", _html([jl.block(node)]))
    assert not errors and reviews[0].url == jl.PAGE_URL and reviews[0].external_id.startswith("jsonld:")


def test_google_translation_split_is_linear_on_many_blank_lines():
    """The old regexes took 2 s on 2,000 blank lines and 166 s on 8,000."""
    comment = "(Translated by Google)" + "\n" * 200_000 + "x"
    assert split_translation(comment) == (comment, None)
    assert split_translation("(Translated by Google) Hi\n \n (Original)\nHallo") == ("Hallo", "Hi")
    assert split_translation("(Original)\nHallo\n\n(Translated by Google)\nHi") == ("Hallo", "Hi")
    assert split_translation("(Translated by Google)\n(Original)\nHallo") == ("Hallo", None)
    assert split_translation("(Translated by Google) Hi\n\n(Original)\n  ") == ("(Translated by Google) Hi\n\n(Original)\n  ", None)
