"""The web app in a real browser: Debian's Chromium driven by Playwright.

Skipped, with the reason, where Chromium is not installed (.ci/run installs it). The
tests write screenshots of the inbox, the draft editor and the dashboard to
screenshots/ (README, "Web app") for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CONTACT
from tests.web.browsing import MARKETER, OWNER, SCREENSHOTS, chromium, log_in, needs_chromium, open_page, serve

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (make test installs it)")
expect = playwright_api.expect
pytestmark = [needs_chromium, pytest.mark.slow]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("browser")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    with open_page(browser, {"width": 1280, "height": 900}) as page:
        yield page


def test_owner_fixes_a_draft_the_guard_rejects_and_approves_it(live_server, page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    log_in(page, live_server, OWNER)
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"))  # the first screenful: what an owner sees first
    first = page.locator("a[href^='/drafts/']").first
    href = first.get_attribute("href")
    page.goto(live_server + href)

    editor = page.locator("textarea[name=text]")
    editor.fill("Sorry about that, but we were busy. We will refund you in full: call 555 0100.")
    approve = page.locator("#approve-button")
    expect(approve).to_be_disabled()
    page.get_by_text("something of value", exact=False).first.wait_for()
    marked = page.locator("#verdict-marked mark")  # the refused clauses, marked in the text as typed
    expect(marked.first).to_be_visible()
    assert any("refund you in full" in text for text in marked.all_inner_texts())
    marked.filter(has_text="refund you in full").first.click()  # selects that clause in the editor
    selected = page.evaluate("() => { const t = document.querySelector('#reply-text');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert "refund you in full" in selected
    page.screenshot(path=str(SCREENSHOTS / "draft-editor-marked.png"), full_page=True)
    page.click("#edit-form button[type=submit]")
    assert page.locator("text=argues, blames or makes excuses").count() >= 1
    assert approve.is_disabled()

    good = f"Hi, we are sorry to read this. Please email us at {CONTACT} so our manager can talk with you."
    page.locator("textarea[name=text]").fill(good)
    expect(page.locator("#approve-button")).to_be_enabled()
    page.click("#edit-form button[type=submit]")
    page.click("#approve-button")
    page.wait_for_load_state()
    history = page.content()
    assert "approved" in history and OWNER in history
    page.screenshot(path=str(SCREENSHOTS / "draft-editor.png"), full_page=True)
    assert page.console_errors == []


def test_a_marketer_reads_but_cannot_approve(live_server, page) -> None:
    log_in(page, live_server, MARKETER)
    href = page.locator("a[href^='/drafts/']").first.get_attribute("href")
    page.goto(live_server + href)
    assert page.locator("#approve-button").count() == 0  # read-only for marketers
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector('meta[name=csrf-token]').content;
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRF-Token': token}});
            return r.status;
        }""",
        f"{live_server}{href}/approve",
    )
    assert status == 403


def test_dashboard_charts_render_and_csv_exports(live_server, page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    log_in(page, live_server, MARKETER)
    page.goto(f"{live_server}/trends?from=2026-01-01&to=2026-11-30&bucket=week")
    canvases = page.locator("canvas")
    expect(canvases.first).to_be_visible()
    assert canvases.count() >= 5
    page.wait_for_timeout(300)
    for index in range(canvases.count()):  # Chart.js sizes each canvas when it draws
        box = canvases.nth(index).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Export CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("section,label,reviews")
    assert page.console_errors == []


def test_an_owner_makes_a_token_and_tries_the_api_from_its_docs(live_server, page) -> None:
    """The docs page is Swagger UI, shipped in the package: it draws every API route and
    sends a call with the token pasted into Authorize. Nothing is refused by the
    Content-Security-Policy (a refusal is a console error) and nothing comes from elsewhere."""
    SCREENSHOTS.mkdir(exist_ok=True)
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(live_server) else None)
    log_in(page, live_server, OWNER)
    page.click("nav >> text=API tokens")
    page.fill("input[name=name]", "browser-test")
    page.select_option("select[name=role]", "marketer")
    page.click("text=Make a token")
    secret = page.locator("#token-secret").input_value()
    assert secret.startswith("rvm_")
    page.screenshot(path=str(SCREENSHOTS / "api-tokens.png"), full_page=True)

    page.click("nav >> text=API")
    operations = page.locator(".swagger-ui .opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() == 9  # GET, PUT and POST of the 8 paths
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)
    page.click(".swagger-ui button.authorize")
    page.fill(".swagger-ui .modal-ux input", secret)
    page.click(".swagger-ui .modal-ux .auth-btn-wrapper button.authorize")
    page.click(".swagger-ui .modal-ux button.btn-done")
    sources = page.locator(".swagger-ui .opblock").filter(has_text="/sources")
    sources.locator(".opblock-summary").click()
    sources.locator("button.try-out__btn").click()
    sources.locator("button.execute").click()
    status = sources.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200")
    assert '"name": "sample"' in sources.locator(".live-responses-table .microlight").first.inner_text()
    assert page.console_errors == [] and elsewhere == []

