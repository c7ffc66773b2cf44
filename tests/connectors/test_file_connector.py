"""The file connector: every valid row lands, every bad row is named by its line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from connectors.errors import BadResponse, ConnectorError
from connectors.file import FileConnector, FileOptions
from tests.conftest import write_jsonl


def read_all(path: Path, cursor=None, **options):
    connector = FileConnector(FileOptions(path=path, **options))

    async def collect():
        return [page async for page in connector.fetch(cursor)]

    pages = asyncio.run(collect())
    reviews = [r for p in pages for r in p.reviews]
    errors = [e for p in pages for e in p.errors]
    return pages, reviews, errors


def test_jsonl_rows_become_reviews_with_every_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{
        "id": "r1", "text": " Lovely soup. ", "rating": "4", "title": "Good", "author": "Ana P.",
        "created_at": "2026-03-01T10:00:00+02:00", "updated_at": "2026-03-02T10:00:00Z",
        "location": "Old Town", "url": "https://x.example/r1", "reply": "Thanks!", "extra": {"votes": 3},
    }])
    _, [review], errors = read_all(path)
    assert errors == []
    assert (review.external_id, review.text, review.rating, review.title, review.author) == ("r1", "Lovely soup.", 4, "Good", "Ana P.")
    assert review.created_at.isoformat() == "2026-03-01T08:00:00+00:00"
    assert review.updated_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert (review.location, review.url, review.owner_reply) == ("Old Town", "https://x.example/r1", "Thanks!")
    assert review.raw["extra"] == {"votes": 3}


def test_bad_rows_are_reported_by_line_and_good_rows_still_land(tmp_path: Path) -> None:
    huge = "word " * 20_000  # 100 KB of text is a valid review
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"id": "ok1", "text": "{{ config.secret }} {% for x in y %}<script>alert(1)</script>", "rating": 1},
        '{"id": "broken", "text": ',                               # line 2: broken JSON
        {"id": "zero", "text": "x", "rating": 0},                 # line 3
        {"id": "nine", "text": "x", "rating": 9},                 # line 4
        {"text": "no id"},                                        # line 5
        {"id": "notext", "rating": 3},                            # line 6
        {"id": "ok2", "text": huge, "rating": 2},
        {"id": "ok3", "text": "مطعم رائع 👍🏽 שלום", "rating": 5},
        {"id": "baddate", "text": "x", "created_at": "last tuesday"},  # line 9
        "[1, 2, 3]",                                              # line 10
        {"id": "ok1", "text": "duplicate"},                       # line 11
        {"id": "ok4", "text": "", "rating": 4.0},
        "",
        {"id": "half", "text": "x", "rating": 4.5},               # line 14
    ])
    _, reviews, errors = read_all(path)
    assert [r.external_id for r in reviews] == ["ok1", "ok2", "ok3", "ok4"]
    assert reviews[0].text == "{{ config.secret }} {% for x in y %}<script>alert(1)</script>"
    assert len(reviews[1].text) == len(huge.strip())
    by_line = {e.where: e.message for e in errors}
    assert set(by_line) == {"line 2", "line 3", "line 4", "line 5", "line 6", "line 9", "line 10", "line 11", "line 14"}
    assert "not valid JSON" in by_line["line 2"]
    assert by_line["line 3"] == "rating 0 is outside 1 to 5"
    assert by_line["line 4"] == "rating 9 is outside 1 to 5"
    assert by_line["line 5"] == "id is missing"
    assert "text is missing" in by_line["line 6"]
    assert "not an ISO 8601 time" in by_line["line 9"]
    assert "expected a JSON object" in by_line["line 10"]
    assert "already appeared on line 1" in by_line["line 11"]
    assert "outside 1 to 5" in by_line["line 14"]


def test_invalid_utf8_nul_bytes_and_lone_surrogates_are_handled(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "caf\xe9"}\n'                    # Latin-1 byte: not UTF-8
        b'{"id": "b", "text": "nul\\u0000byte \\ud800 lone"}\n'
        + "\ufeff".encode() + b'{"id": "c", "text": "bom mid-file"}\n'
    )
    _, reviews, errors = read_all(path)
    assert [e.where for e in errors] == ["line 1", "line 3"]
    assert errors[0].message == "not valid UTF-8"
    assert reviews[0].text == "nul\ufffdbyte \ufffd lone"


def test_csv_with_multiline_text_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        'id,text,rating,author,created_at\n'
        'c1,"Line one\nline two, with comma",2,Bo,2026-01-01\n'
        'c2,fine,7,Al,\n'
        'c3,,5,,\n',
        encoding="utf-8",
    )
    _, reviews, errors = read_all(path)
    assert [r.external_id for r in reviews] == ["c1", "c3"]
    assert reviews[0].text == "Line one\nline two, with comma"
    assert reviews[1].text == "" and reviews[1].author is None
    assert [(e.where, e.message) for e in errors] == [("line 4", "rating '7' is outside 1 to 5")]


def test_csv_without_required_columns_fails_the_source(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("review_id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(BadResponse, match="no 'id' or 'text' column"):
        read_all(path)


def test_pages_carry_the_cursor_only_at_the_end(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"id": str(i), "text": "t"} for i in range(7)])
    pages, reviews, _ = read_all(path, page_size=3)
    assert [len(p.reviews) for p in pages] == [3, 3, 1]
    assert [p.cursor is not None for p in pages] == [False, False, True]
    unchanged_pages, _, _ = read_all(path, cursor=pages[-1].cursor, page_size=3)
    assert unchanged_pages == []  # an unchanged file is not read again


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="cannot read"):
        read_all(tmp_path / "nope.jsonl")


def test_deeply_nested_json_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "x", "text": "a", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n" + json.dumps({"id": "y", "text": "b"}) + "\n")
    _, reviews, errors = read_all(path)
    assert [r.external_id for r in reviews] == ["y"]
    assert errors[0].where == "line 1" and "JSON" in errors[0].message
