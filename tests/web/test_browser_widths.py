"""The owner's pages in Chromium at phone width (390x844) and on a laptop (1366x900):
nothing scrolls sideways, the whole reply is seen in the editor with a preview of how the
platform shows it, and nothing offers to publish during the cooling-off.

Screenshots of the inbox, a draft, the trends and the sources at both widths go to
screenshots/ for a person to look at (README, "Web app")."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CONTACT
from tests.web.browsing import LAPTOP, OWNER, PHONE, SCREENSHOTS, chromium, log_in, needs_chromium, open_page, serve

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (make test installs it)")
expect = playwright_api.expect
pytestmark = [needs_chromium, pytest.mark.slow]

GOOD = f"Hi, we are sorry to read this. Please email us at {CONTACT} so our manager can talk with you."
# Everything a person can see or press, and where it ends on the page: none may end beyond
# the window's right edge (a table cut off inside its own scroll box hides "Poll now" too).
BEYOND_THE_EDGE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('button, a, input, select, textarea, canvas, td, h1, h2, p, li')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map(e => [e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.innerText || e.value || '').slice(0, 40),
               Math.round(e.getBoundingClientRect().right)])
    .filter(([, right]) => right > width + 1);
}"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("widths")) as base:
        yield base


@pytest.fixture(scope="module")
def cooling_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("cooling"), cooling_off="1h") as base:
        yield base


@pytest.fixture(params=[PHONE, LAPTOP], ids=["390x844", "1366x900"])
def page(request, browser):
    with open_page(browser, request.param) as page:
        page.width = request.param["width"]
        yield page


def first_draft(page, base: str) -> str:
    page.goto(f"{base}/inbox")
    return page.locator("a[href^='/drafts/']").first.get_attribute("href")


def test_no_page_scrolls_sideways(live_server, page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    log_in(page, live_server, OWNER)
    draft = first_draft(page, live_server)
    review = page.locator("[data-draft]").first.get_attribute("data-draft")
    pages = {"inbox": "/inbox", "draft": draft, "trends": "/trends?from=2026-01-01&to=2026-11-30&bucket=week",
             "sources": "/sources", "reviews": "/reviews", "runs": "/sources/runs", "followups": "/followups",
             "review": f"/reviews/{review}", "suspicious": "/inbox/suspicious"}
    for name, path in pages.items():
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        sideways = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert sideways <= 0, f"{path} scrolls {sideways} px sideways at {page.width} px"
        assert page.evaluate(BEYOND_THE_EDGE) == [], f"{path} at {page.width} px"
        if name in ("inbox", "draft", "trends", "sources", "suspicious"):
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.width}.png"), full_page=True)
    page.goto(live_server + "/sources")
    expect(page.get_by_role("button", name="Poll now").first).to_be_in_viewport()
    page.goto(live_server + pages["trends"])
    for canvas in page.locator("canvas").all():  # each chart drawn, and as wide as its card allows
        box = canvas.bounding_box()
        assert box and 100 < box["width"] <= page.width and box["height"] > 100
    assert page.console_errors == []


def test_the_suspicious_tab_lists_spam_with_the_platforms_link_in_a_new_tab(live_server, page) -> None:
    log_in(page, live_server, OWNER)
    page.click("nav.tabs >> text=Suspicious")
    page.wait_for_url(f"{live_server}/inbox/suspicious")
    expect(page.locator("nav.tabs [aria-current=page]")).to_have_text(re.compile(r"^Suspicious \(\d+\)$"))
    item = page.locator("li.item.suspicious").first
    expect(item.locator(".triage-reason")).to_contain_text("Looks suspicious:")
    report = item.get_by_role("link", name="Report on Google")
    assert report.get_attribute("target") == "_blank" and report.get_attribute("rel") == "noopener noreferrer"
    assert report.get_attribute("href").startswith("https://")
    page.click("nav.tabs >> text=Needs an answer")
    page.wait_for_url(f"{live_server}/inbox")
    assert page.console_errors == []


def test_the_whole_reply_is_in_the_editor_with_a_preview_and_the_platforms_limit(live_server, page) -> None:
    log_in(page, live_server, OWNER)
    page.goto(live_server + first_draft(page, live_server))
    long_reply = "\n\n".join([f"Dear reviewer, paragraph {n}: we are sorry to read this." for n in range(1, 9)]
                             + [GOOD, "Sincerely,\nThe management of the place, signing off at the very end"])
    editor = page.locator("#reply-text")
    editor.fill(long_reply)
    # The editor grew: nothing of the reply is hidden inside it, and its last line is on the page.
    hidden = editor.evaluate("t => t.scrollHeight - t.clientHeight")
    assert hidden <= 1, f"{hidden} px of the reply are hidden inside the editor at {page.width} px"
    assert editor.bounding_box()["height"] > 300
    preview = page.locator("#reply-preview")
    expect(preview).to_have_text(long_reply, use_inner_text=True)
    length = page.locator("#reply-length")
    expect(length).to_have_text(re.compile(rf"^{len(long_reply.encode()):,} of the 4,096 bytes Google allows$"))

    editor.fill(GOOD + " " + "é" * 2100)  # 4,200 bytes and more: too long for Google
    expect(length).to_contain_text("too long, shorten it by")
    expect(length).to_have_class(re.compile("is-over"))
    expect(page.locator("#approve-button")).to_be_disabled()
    page.screenshot(path=str(SCREENSHOTS / f"draft-too-long-{page.width}.png"))
    assert page.console_errors == []


def test_nothing_offers_to_publish_before_the_cooling_off_ends(cooling_server, page) -> None:
    log_in(page, cooling_server, OWNER)
    page.goto(cooling_server + first_draft(page, cooling_server))
    page.locator("#reply-text").fill(GOOD)
    page.click("#edit-form button[type=submit]")
    page.click("#approve-button")
    page.wait_for_load_state()
    expect(page.locator(".page-head .badge").first).to_have_text("approved")
    expect(page.locator(".flash")).to_contain_text("Approved: it can go out from")  # not "post it now"
    expect(page.locator("#cooling-off")).to_contain_text("can go out from")
    for name in ("Post now", "Copy reply", "Mark posted"):
        assert page.get_by_role("button", name=name).count() == 0, f"{name} offered during the cooling-off"
    page.screenshot(path=str(SCREENSHOTS / f"draft-cooling-off-{page.width}.png"), full_page=True)


def test_a_refused_approval_lands_on_the_drafts_page_and_a_reload_sends_nothing(live_server, browser, page) -> None:
    """Someone else changes the reply while this page is open: Approve is refused. The
    browser ends on the draft's page (not on /approve), with the reason; reloading it
    shows the page again without the message and posts nothing (post/redirect/get)."""
    log_in(page, live_server, OWNER)
    draft = first_draft(page, live_server)
    page.goto(live_server + draft)
    page.locator("#reply-text").fill(GOOD)
    page.click("#edit-form button[type=submit]")
    expect(page.locator("#approve-button")).to_be_enabled()
    with open_page(browser, LAPTOP) as other:
        log_in(other, live_server, OWNER)
        other.goto(live_server + draft)
        other.locator("#reply-text").fill("Sorry, but we were busy. We will refund you in full.")
        other.click("#edit-form button[type=submit]")
        expect(other.locator(".flash")).to_contain_text("the policy guard would refuse it")

    page.click("#approve-button")
    page.wait_for_load_state()
    assert page.url == live_server + draft
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("changed")
    expect(page.locator(".page-head .badge").first).to_have_text("drafted")
    page.screenshot(path=str(SCREENSHOTS / f"draft-refused-{page.width}.png"))

    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and not r.url.endswith("/check") else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert posts == [] and page.url == live_server + draft
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_first_screen_of_the_inbox_shows_reviews_and_the_filters_are_a_tap_away(live_server, page) -> None:
    log_in(page, live_server, OWNER)
    for path in ("/inbox", "/inbox/suspicious", "/reviews"):
        page.goto(live_server + path)
        source = page.locator("select[name=source]")
        first = page.locator(".item").first.bounding_box()
        assert first["y"] < 844 - 150, f"{path}: the first review starts {first['y']:.0f} px down at {page.width} px"
        if page.width <= 640:  # folded on a phone: one tap opens it
            expect(source).to_be_hidden()
            page.get_by_text("Filters", exact=True).click()
        expect(source).to_be_visible()
    page.goto(f"{live_server}/inbox?rating=1")  # a filter that is set stays in sight, with the way to clear it
    expect(page.locator("select[name=source]")).to_be_visible()
    expect(page.get_by_role("link", name="Clear")).to_be_visible()
