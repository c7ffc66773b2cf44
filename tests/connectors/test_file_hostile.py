"""Hostile import files (issue 18): a stray quote costs its own row, never the rows after
it; a line longer than the limit is one bad row, read past within the limit."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from connectors import file as file_module
from tests.conftest import run_cli, write_config
from tests.connectors.test_file_connector import read_all

HEADER = "id,text,rating,author\n"


def csv_rows(count: int) -> list[str]:
    """Rows for lines 2 .. count + 1 (line n holds review r{n})."""
    return [f"r{n},Review number {n} was fine,{n % 5 + 1},Guest {n}\n" for n in range(2, count + 2)]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_a_stray_quote_on_line_12_of_5000_rows_costs_that_row_and_the_poll_says_so(tmp_path: Path, database_url: str) -> None:
    rows = csv_rows(5000)
    rows[10] = 'r12,"Great food, but the,4,Guest 12\n'  # line 12: a quote that is never closed
    write_csv(tmp_path / "reviews.csv", rows)
    config = write_config(tmp_path, database_url, [{"name": "imports", "type": "file", "path": "reviews.csv"}])
    assert run_cli(config, "migrate").exit_code == 0
    polled = run_cli(config, "poll", "--verbose")
    assert polled.exit_code == 0, polled.output
    assert "imports: ok, 5000 read, 4999 new" in polled.output and "1 rejected" in polled.output
    assert "imports: skipped line 12: not valid CSV (a quoted field runs on into line 13, which looks like a row of its own)" \
        in polled.output
    listed = json.loads(run_cli(config, "reviews", "list", "--format", "json", "--source", "imports", "--limit", "10000").output)
    stored = {r["external_id"]: r["text"] for r in listed}
    assert len(stored) == 4999 and "r12" not in stored
    assert stored["r13"] == "Review number 13 was fine" and stored["r5001"] == "Review number 5001 was fine"


def test_a_runaway_field_closed_by_a_later_quote_is_one_bad_row_and_the_rows_it_swallowed_are_read(tmp_path: Path) -> None:
    rows = csv_rows(6)
    rows[2] = 'r4,"Swallows the next row, then closes,2,Guest 4\n'  # line 4
    rows[4] = 'r6,"A quoted text, closed",3,Guest 6\n'  # its first quote would close the runaway field
    _, reviews, errors = read_all(write_csv(tmp_path / "r.csv", rows))
    assert [r.external_id for r in reviews] == ["r2", "r3", "r5", "r6", "r7"]
    assert reviews[3].text == "A quoted text, closed"
    assert [(e.where, e.message) for e in errors] == [
        ("line 4", "not valid CSV (a quoted field runs on into line 5, which looks like a row of its own); only this row is skipped")]


def test_a_quote_left_open_on_the_last_row_costs_that_row(tmp_path: Path) -> None:
    rows = csv_rows(4)
    rows[-1] = 'r5,"Never closed, and the file ends,1,Guest 5\n'
    _, reviews, errors = read_all(write_csv(tmp_path / "r.csv", rows))
    assert [r.external_id for r in reviews] == ["r2", "r3", "r4"]
    assert [(e.where, e.message) for e in errors] == [
        ("line 5", "not valid CSV (a quoted field is still open at the end of the file); only this row is skipped")]


def test_quoted_fields_over_many_lines_still_read(tmp_path: Path) -> None:
    """Paragraphs, commas, quotes and even lines of comma-separated words inside a
    quoted field are text, not rows."""
    long_text = "First paragraph, with a comma.\n\n" + "\n".join(f"Point {i}, and more" for i in range(300)) + '\nSaid "wow", twice'
    rows = ['r2,"' + long_text.replace('"', '""') + '",5,Guest 2\n', 'r3,"Food,service,price",4,"Bo, Jr"\n', "r4,ok,3,Al\n"]
    _, reviews, errors = read_all(write_csv(tmp_path / "r.csv", rows))
    assert not errors
    assert [(r.external_id, r.text) for r in reviews] == [("r2", long_text), ("r3", "Food,service,price"), ("r4", "ok")]


def test_an_overlong_jsonl_line_is_one_bad_row_read_within_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "MAX_LINE_BYTES", 64 * 1024)
    path = tmp_path / "r.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"id": "a", "text": "before"}) + "\n")
        out.write(json.dumps({"id": "huge", "text": "x" * (20 << 20)}) + "\n")  # a 20 MB line
        out.write(json.dumps({"id": "b", "text": "after"}) + "\n")
    tracemalloc.start()
    try:
        _, reviews, errors = read_all(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.external_id for r in reviews] == ["a", "b"]
    assert [(e.where, e.message) for e in errors] == [
        ("line 2", "the line is longer than 64 KB (the limit for one line); the rest of it was skipped unread")]
    assert peak < 4 << 20, f"reading a 20 MB line took {peak:,} bytes"


def test_an_overlong_csv_line_is_one_bad_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "MAX_LINE_BYTES", 1000)
    rows = csv_rows(3)
    rows[1] = f"r3,{'y' * 5000},4,Guest 3\n"
    _, reviews, errors = read_all(write_csv(tmp_path / "r.csv", rows))
    assert [r.external_id for r in reviews] == ["r2", "r4"]
    assert [(e.where, e.message) for e in errors] == [
        ("line 3", "not valid CSV (the line is longer than 1,000 characters; its rest was skipped); only this row is skipped")]


def test_the_file_checksum_covers_the_skipped_rest_of_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit past the limit on an over-long line is still an edit: the file is read again."""
    monkeypatch.setattr(file_module, "MAX_LINE_BYTES", 100)
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "x" * 500}) + "\n", encoding="utf-8")
    pages, _, _ = read_all(path)
    path.write_text(json.dumps({"id": "a", "text": "x" * 499 + "y"}) + "\n", encoding="utf-8")
    again, _, errors = read_all(path, cursor=pages[-1].cursor)
    assert again and [e.where for e in errors] == ["line 1"]
