"""The dashboard and its CSV export, through the real app and database."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import httpx
import pytest

from service.desk import users
from service.polling import poll as poll_module
from service.web import create_app
from tests.web_session import logged_in


@pytest.fixture
def app_ctx(make_context, fake_type):
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(
        review("a", "Awful: cold food and a long wait.", 1, created_at=_t("2026-11-02T12:00:00+00:00"), location="=HYPERLINK(\"x\")"),
        review("b", "Lovely chowder.", 5, created_at=_t("2026-11-03T12:00:00+00:00"), location="Old Town"),
        review("c", "<script>alert(1)</script> rude staff, terrible", 2, created_at=_t("2026-11-10T12:00:00+00:00"), location="Old Town"),
        cursor={"n": 1},
    )
    ctx = make_context([{"name": "fake", "type": "fake"}])
    asyncio.run(poll_module.poll(ctx))
    users.add_user(ctx, "sam", "marketer", "a long enough secret")
    return ctx


def _t(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


async def _get_as_marketer(ctx, url: str) -> httpx.Response:
    async with logged_in(ctx, "sam", "a long enough secret") as (client, _):
        return await client.get(url)


def run(coro):
    return asyncio.run(coro)


def test_the_dashboard_needs_a_login(app_ctx) -> None:
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(app_ctx)), base_url="http://test") as c:
            return await c.get("/trends")

    response = run(go())
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/trends")


def test_a_marketer_sees_the_figures_and_charts_load_without_inline_script(app_ctx) -> None:
    page = run(_get_as_marketer(app_ctx, "/trends?from=2026-11-01&to=2026-11-15&bucket=week"))
    assert page.status_code == 200
    assert re.search(r'Reviews</span><span class="value">3<', page.text)
    assert '<script src="/static/vendor/chart-4.6.1.umd.min.js"></script>' in page.text
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
    assert scripts == [' type="application/json" id="trend-data"']  # data, never inline code
    assert "<script>alert(1)</script>" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]


def test_csv_export_is_what_the_page_shows_and_safe_for_spreadsheets(app_ctx) -> None:
    response = run(_get_as_marketer(app_ctx, "/trends.csv?from=2026-11-01&to=2026-11-15&bucket=week"))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    total = next(r for r in rows if r["section"] == "total")
    assert (total["reviews"], total["negative"]) == ("3", "2")
    weeks = [(r["label"], r["reviews"]) for r in rows if r["section"] == "per week"]
    assert weeks == [("2026-10-26", "0"), ("2026-11-02", "2"), ("2026-11-09", "1")]
    locations = {r["label"] for r in rows if r["section"] == "by location"}
    assert "'=HYPERLINK(\"x\")" in locations and "Old Town" in locations


def test_a_bad_date_is_a_clear_error(app_ctx) -> None:
    response = run(_get_as_marketer(app_ctx, "/trends?from=yesterday"))
    assert response.status_code == 400 and "must be a date like" in response.text
