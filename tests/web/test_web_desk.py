"""The owners' reply desk in the web app (inbox, draft editor, follow-ups), driven over
HTTP by httpx against the real app and the real database, as a browser would."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from service.context import Context
from service.desk import approvals, posting, queries, users
from service.desk.users import Actor, Forbidden
from service.errors import InvalidTransition
from service.polling import poll as poll_module
from service.web import create_app
from tests import web_session
from tests.conftest import CONTACT

PASSWORD = "correct horse battery staple"
SETTINGS = '\n[replies]\ncooling_off = "0s"\nfollowup_after = "0s"\n'

SCRIPT = "<script>alert('pwned')</script> Terrible food, rude staff."
TEMPLATE = "{{ 7*7 }} Horrible experience, never again."
HUGE = "Awful. " * 15_000  # about 100 KB
RTL = "\u202eהשירות היה נורא\u202c والطعام كان باردا"
GOOD = f"Hi, we are sorry to read this. Please email us at {CONTACT} so the manager can talk with you."
BAD = f"Sorry, but it was a busy night. We will refund you 50% - call 555 0100 or {CONTACT}."


@dataclass
class Desk:
    """The app over a polled database, with one account per role."""

    ctx: Context
    drafts: dict[str, int]  # external review id -> draft id

    def client(self) -> httpx.AsyncClient:
        return web_session.client_for(self.ctx)

    def draft(self, external_id: str) -> dict:
        with self.ctx.session() as session:
            return queries.draft(session, self.drafts[external_id])


@pytest.fixture
def desk(make_context, fake_type) -> Desk:
    """Two sources: `fb` takes replies through its API, `plain` does not. Reviews: an
    escalated one (the oldest), hostile texts, a triage case, praise (no draft)."""
    from tests.fakeconnector import FakeSource, review

    now = datetime.now(timezone.utc)

    def ago(days: float) -> dict:
        return {"created_at": now - timedelta(days=days)}

    FakeSource("fb").page(
        review("poison", "I got food poisoning after the fish. Awful.", 2, author="Nora", url="https://fb.example/poison", **ago(9)),
        review("cold", "Cold soup and a rude waiter. Awful.", 1, author="Sam", url="https://fb.example/cold", **ago(3)),
        review("script", SCRIPT, 1, author="<b>Eve</b>", title="<img src=x onerror=alert(1)>", url="javascript:alert(1)", **ago(2)),
        review("template", TEMPLATE, 1, author="{{ user.name }}", **ago(1)),
        review("praise", "Lovely place, great chowder, friendly people!", 5, author="Ann", **ago(0.5)),
        cursor={"n": 1},
    )
    FakeSource("plain").page(
        review("huge", HUGE, 1, author="Long", location="Old Town", **ago(5)),
        review("rtl", RTL, 1, author="ליאור", location="Old Town", url="https://plain.example/rtl", **ago(4)),
        review("spam", "Worst place ever!!! Terrible awful horrible", 2, author="Bot", **ago(6)),
        cursor={"n": 1},
    )
    ctx = make_context([
        {"name": "fb", "type": "fakereply", "script": "fb"},
        {"name": "plain", "type": "fake", "script": "plain"},
    ], extra=SETTINGS)
    asyncio.run(poll_module.poll(ctx))
    for name, role in (("olive", "owner"), ("mia", "marketer"), ("adam", "admin")):
        users.add_user(ctx, name, role, PASSWORD)
    with ctx.session() as session:
        drafts = {row["external_id"]: row["id"] for row in queries.draft_rows(session)}
    assert "praise" not in drafts and len(drafts) == 7
    return Desk(ctx, drafts)


# --- helpers -----------------------------------------------------------------------------

async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await web_session.login(client, name, password)


def logged_in(desk: Desk, name: str):
    """A client logged in as `name` (every account has PASSWORD), and its session's CSRF token."""
    return web_session.logged_in(desk.ctx, name, PASSWORD)


def order(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-draft="(\d+)"', page)]


def flash(page: str) -> str:
    found = re.search(r'<p class="flash[^"]*" role="status">(.*?)</p>', page, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def refusal(page: str) -> str:
    """What the draft page says was refused (its alert: the reason and the guard's problems), as text."""
    found = re.search(r'<div class="flash error" role="alert">(.*?)</div>', page, re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def editor_text(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', page, re.DOTALL).group(1))


def forms(page: str) -> list[str]:
    """The actions of the page's forms, the logout form in the top bar aside."""
    return [a for a in re.findall(r'<form[^>]*action="([^"]+)"', page) if a != "/logout"]


# --- the service rules the desk relies on ------------------------------------------------


def test_next_steps_follow_the_draft_and_the_role(desk: Desk) -> None:
    owner, marketer = Actor("olive", "owner"), Actor("mia", "marketer")
    draft = desk.draft("cold")
    assert approvals.next_steps(draft, owner) == {"edit", "regenerate", "approve", "reject"}
    assert approvals.next_steps(draft, marketer) == frozenset()
    assert approvals.next_steps(draft, Actor("adam", "admin")) == frozenset()
    approvals.approve(desk.ctx, draft["id"], actor=owner)
    assert approvals.next_steps(desk.draft("cold"), owner) == {"edit", "regenerate", "reject", "post", "mark posted", "follow up"}
    posting.mark_posted(desk.ctx, draft["id"], actor=owner)
    assert approvals.next_steps(desk.draft("cold"), owner) == {"follow up"}
    approvals.reject(desk.ctx, desk.drafts["spam"], actor=owner)
    assert approvals.next_steps(desk.draft("spam"), owner) == {"edit", "regenerate", "approve"}


def test_approval_is_for_the_text_the_approver_read(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    read = desk.draft("cold")["text"]
    approvals.edit(desk.ctx, draft_id, GOOD, actor="sean")  # someone else changes it meanwhile
    with pytest.raises(InvalidTransition, match="was changed"):
        approvals.approve(desk.ctx, draft_id, actor="olive", seen_text=read)
    assert desk.draft("cold")["status"] == "drafted"
    approvals.approve(desk.ctx, draft_id, actor="olive", seen_text=GOOD + "\n")
    assert desk.draft("cold")["status"] == "approved"


def test_only_those_who_may_act_post_or_mark_posted(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    approvals.approve(desk.ctx, draft_id, actor="olive")
    marketer = Actor("mia", "marketer")
    with pytest.raises(Forbidden):
        asyncio.run(posting.post(desk.ctx, [draft_id], actor=marketer))
    with pytest.raises(Forbidden):
        posting.mark_posted(desk.ctx, draft_id, actor=marketer)
    with pytest.raises(Forbidden):
        asyncio.run(posting.withdraw(desk.ctx, draft_id, actor=marketer))
    assert desk.draft("cold")["status"] == "approved"


# --- logging in ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_pages_need_a_login_and_healthz_does_not(desk: Desk) -> None:
    async with desk.client() as client:
        for path in ("/inbox", f"/drafts/{desk.drafts['cold']}", "/followups", "/inbox?rating=1"):
            response = await client.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == "/login?next=" + path.split("?")[0]
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["database"] == "ok"
        assert (await client.get("/login")).status_code == 200


@pytest.mark.anyio
async def test_a_wrong_password_is_refused_and_repeated_failures_throttle_the_address(desk: Desk) -> None:
    async with desk.client() as client:
        wrong = await login(client, "olive", "not the password")
        assert await web_session.login_said(client, wrong) == "wrong user name or password"
        unknown = await login(client, "nobody", PASSWORD)
        assert await web_session.login_said(client, unknown) == "wrong user name or password"
        for _ in range(desk.ctx.config.web.login_attempts - 1):
            assert web_session.refused(await login(client, "olive", "still wrong!"))
        throttled = await login(client, "olive", PASSWORD)  # the right password, too late
        assert "too many failed logins" in await web_session.login_said(client, throttled)
        assert (await client.get("/inbox")).status_code == 303
        start = desk.ctx.clock()
        desk.ctx.clock = lambda: start + desk.ctx.config.web.lockout + timedelta(seconds=1)
        assert (await login(client, "olive")).status_code == 303


@pytest.mark.anyio
async def test_logout_ends_the_session(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, csrf):
        assert (await client.get("/inbox")).status_code == 200
        out = await client.post("/logout", data={"csrf_token": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await client.get("/inbox")).status_code == 303


@pytest.mark.anyio
async def test_security_headers_on_every_page(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, _):
        for path in ("/login", "/inbox", f"/drafts/{desk.drafts['cold']}", "/followups", "/healthz"):
            headers = (await client.get(path)).headers
            csp = headers["content-security-policy"]
            script_src = re.search(r"script-src ([^;]+)", csp).group(1)
            assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
            assert "frame-ancestors 'none'" in csp
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
        page = (await client.get(f"/drafts/{desk.drafts['cold']}")).text
        assert '<script src="/static/desk.js"' in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script anywhere
        assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers either
        script = await client.get("/static/desk.js")
        assert script.status_code == 200 and "X-CSRF-Token" in script.text


# --- the inbox -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_inbox_puts_escalated_first_then_newest(desk: Desk) -> None:
    async with logged_in(desk, "mia") as (client, _):  # marketers read the inbox too
        page = (await client.get("/inbox")).text
    ids = {v: k for k, v in desk.drafts.items()}
    assert [ids[n] for n in order(page)] == ["poison", "template", "script", "cold", "rtl", "huge", "spam"]
    assert "escalated: illness (food poisoning)" in page
    assert "triage: no specifics" in page
    assert "Lovely place" not in page  # praise needs no answer
    assert f'href="/drafts/{desk.drafts["poison"]}"' in page
    assert "waiting 9 days" in page


@pytest.mark.anyio
async def test_inbox_filters_and_paging(desk: Desk) -> None:
    approvals.approve(desk.ctx, desk.drafts["cold"], actor="olive")
    ids = {v: k for k, v in desk.drafts.items()}
    async with logged_in(desk, "olive") as (client, _):
        async def shown(query: str) -> list[str]:
            response = await client.get("/inbox?" + query)
            assert response.status_code == 200
            return [ids[n] for n in order(response.text)]

        assert await shown("source=plain") == ["rtl", "huge", "spam"]
        assert await shown("location=Old+Town") == ["rtl", "huge"]
        assert await shown("rating=2") == ["poison", "spam"]
        assert await shown("status=approved") == ["cold"]
        since = (datetime.now(timezone.utc) - timedelta(days=3)).date().isoformat()
        until = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()  # that day included
        assert await shown(f"since={since}&until={until}") == ["script", "cold"]
        # An empty GET form sends every field empty: no filter at all.
        assert len(await shown("source=&location=&rating=&status=&since=&until=")) == 7
        bad_date = await client.get("/inbox?since=yesterday")
        assert "is not a date" in bad_date.text and len(order(bad_date.text)) == 7
        first = await client.get("/inbox?limit=3")
        assert [ids[n] for n in order(first.text)] == ["poison", "template", "script"]
        assert 'href="/inbox?limit=3&amp;offset=3"' in first.text
        assert [ids[n] for n in order((await client.get("/inbox?limit=3&offset=3")).text)] == ["cold", "rtl", "huge"]
        last = await client.get("/inbox?source=plain&limit=3&offset=3")
        assert order(last.text) == [] and "No more reviews" in last.text
        nothing = await client.get("/inbox?source=fb&rating=5")
        assert order(nothing.text) == [] and "No review matches these filters" in nothing.text


@pytest.mark.anyio
async def test_an_empty_inbox_says_so(desk: Desk) -> None:
    for draft_id in desk.drafts.values():
        approvals.reject(desk.ctx, draft_id, actor="olive")
    async with logged_in(desk, "olive") as (client, _):
        page = (await client.get("/inbox")).text
    assert order(page) == [] and "Nothing waiting" in page


# --- hostile texts ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_hostile_review_texts_are_shown_as_text(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, _):
        pages = {"inbox": (await client.get("/inbox?limit=200")).text}
        for name in ("script", "template", "huge", "rtl"):
            response = await client.get(f"/drafts/{desk.drafts[name]}")
            assert response.status_code == 200
            pages[name] = response.text
    for page in (pages["inbox"], pages["script"]):
        assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
        assert "<b>Eve</b>" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in pages["script"]  # a link that is not http(s) is not a link
    for page in (pages["inbox"], pages["template"]):
        [text] = [t for t in re.findall(r'class="review-text[^"]*" dir="auto">([^<]*)<', page) if "Horrible" in t]
        assert text == TEMPLATE and "49" not in text  # not evaluated
        assert "{{ user.name }}" in page  # the author's name, as written
    editor = pages["huge"]
    assert len(editor) > len(HUGE) and HUGE.strip() in editor  # all of it, in the editor
    assert HUGE.strip() not in pages["inbox"] and len(pages["inbox"]) < len(HUGE)  # the inbox shows the start
    for page in (pages["inbox"], pages["rtl"]):
        assert RTL in page
        assert re.search(r'dir="auto">' + re.escape(RTL) + "<", page)  # isolated, so it cannot reorder the page


# --- the draft editor ------------------------------------------------------------------


@pytest.mark.anyio
async def test_edit_fail_see_why_fix_approve_and_see_the_history(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, csrf):
        editor = await client.get(f"/drafts/{draft_id}")
        assert editor.status_code == 200
        assert "Cold soup and a rude waiter" in editor.text and 'id="approve-button"' in editor.text
        assert not re.search(r'id="approve-button"[^>]*disabled', editor.text)
        assert 'https://fb.example/cold' in editor.text and "0 earlier versions" in editor.text

        saved = await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": BAD})
        assert saved.status_code == 303 and saved.headers["location"] == f"/drafts/{draft_id}"
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert "Saved, but the policy guard would refuse it" in flash(page)
        for reason in ("something of value", "argues", "details of the case", "contact details other than"):
            assert reason in page
        assert re.search(r'id="approve-button"[^>]*disabled', page)  # no working approve button
        assert html.escape(BAD, quote=False) in page  # the saved text is in the textarea

        refused = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})
        assert refused.status_code == 303 and refused.headers["location"] == f"/drafts/{draft_id}"
        page = (await web_session.followed(client, refused)).text
        assert "fails the policy guard" in refusal(page) and "offers something of value" in refusal(page)
        assert desk.draft("cold")["status"] == "drafted"

        fixed = await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": GOOD})
        assert fixed.status_code == 303
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert flash(page) == "Saved. The text passes the policy guard."
        assert not re.search(r'id="approve-button"[^>]*disabled', page)

        approved = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})
        assert approved.status_code == 303 and approved.headers["location"] == f"/drafts/{draft_id}"
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert flash(page) == "Approved: it can go out now."
        history = re.search(r'<table class="history[^"]*">.*?<tbody>(.*?)</tbody>', page, re.DOTALL).group(1)
        rows = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
                for row in re.findall(r"<tr>(.*?)</tr>", history, re.DOTALL)]
        assert [row[1:4] for row in rows] == [["reviewmon", "drafted a reply", "drafted"], ["olive", "edited the draft", "drafted"],
                                              ["olive", "tried to approve it: the policy guard refused", "drafted"],
                                              ["olive", "edited the draft", "drafted"], ["olive", "approved the reply", "approved"]]
        assert "fails the policy guard" in rows[1][4] and "offers something of value" in rows[2][4]
    row = desk.draft("cold")
    assert row["status"] == "approved" and row["text"] == GOOD and row["approved_by"] == "olive"


@pytest.mark.anyio
async def test_the_editor_approves_only_the_text_it_showed(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, csrf):
        page = (await client.get(f"/drafts/{draft_id}")).text
        seen = html.unescape(re.search(r'name="seen_text" value="([^"]*)"', page).group(1))
        assert seen == desk.draft("cold")["text"] and "\n" in seen  # a multi-line wording
        approvals.edit(desk.ctx, draft_id, GOOD, actor="sean")  # changed by someone else meanwhile
        stale = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf, "seen_text": seen})
        assert stale.status_code == 303 and stale.headers["location"] == f"/drafts/{draft_id}"
        page = (await web_session.followed(client, stale)).text
        assert "was changed (last by sean) after you read it" in refusal(page)
        assert html.escape(GOOD, quote=False) in page  # the new text, to read before approving
        assert desk.draft("cold")["status"] == "drafted"
        # Browsers send a form's line breaks as CRLF: the text read is still the same text.
        edited = await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": "Hi,\r\n\r\n" + GOOD})
        assert edited.status_code == 303 and desk.draft("cold")["text"] == "Hi,\n\n" + GOOD
        page = (await client.get(f"/drafts/{draft_id}")).text
        seen = html.unescape(re.search(r'name="seen_text" value="([^"]*)"', page).group(1)).replace("\n", "\r\n")
        ok = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf, "seen_text": seen})
        assert ok.status_code == 303 and desk.draft("cold")["status"] == "approved"


@pytest.mark.anyio
async def test_a_text_too_long_to_keep_is_refused_and_stays_in_the_box(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    before = desk.draft("cold")["text"]
    too_long = "Sorry. " * 4000  # over approvals.MAX_DRAFT_CHARS
    async with logged_in(desk, "olive") as (client, csrf):
        response = await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": too_long})
        assert response.status_code == 303 and response.headers["location"] == f"/drafts/{draft_id}"
        page = (await web_session.followed(client, response)).text
        assert f"drafts are limited to {approvals.MAX_DRAFT_CHARS}" in refusal(page)
        assert editor_text(page) == too_long and desk.draft("cold")["text"] == before
        again = (await client.get(f"/drafts/{draft_id}")).text  # a reload: the saved text, no refusal
        assert refusal(again) == "" and editor_text(again) == before
    assert desk.draft("cold")["text"] == before


@pytest.mark.anyio
async def test_the_check_endpoint_gives_the_guards_verdict(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, _):
        page = (await client.get(f"/drafts/{draft_id}")).text
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
        headers = {"X-CSRF-Token": meta, "Accept": "application/json"}
        good = await client.post(f"/drafts/{draft_id}/check", json={"text": GOOD}, headers=headers)
        assert good.status_code == 200 and good.json() == {"ok": True, "problems": [], "clauses": []}
        bad = await client.post(f"/drafts/{draft_id}/check", json={"text": BAD}, headers=headers)
        assert bad.status_code == 200 and bad.json()["ok"] is False
        marked = [BAD[c["start"]:c["end"]] for c in bad.json()["clauses"]]  # the refused clauses, where they stand
        assert marked and all(c["problems"] for c in bad.json()["clauses"])
        assert any("refund" in clause.lower() or "free" in clause.lower() for clause in marked), marked
        assert bad.json()["problems"] == approvals.check_text(desk.ctx, BAD, source_name="fb", source_type="fakereply").problems
        refused = await client.post(f"/drafts/{draft_id}/check", json={"text": GOOD}, headers={"Accept": "application/json"})
        assert refused.status_code == 403
        missing = await client.post("/drafts/999999/check", json={"text": GOOD}, headers=headers)
        assert missing.status_code == 404
    assert desk.draft("cold")["text"] != GOOD  # checking saves nothing


@pytest.mark.anyio
async def test_reject_with_a_reason_and_regenerate(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    before = desk.draft("cold")["text"]
    async with logged_in(desk, "olive") as (client, csrf):
        again = await client.post(f"/drafts/{draft_id}/regenerate", data={"csrf_token": csrf})
        assert again.status_code == 303
        assert desk.draft("cold")["text"] != before
        rejected = await client.post(f"/drafts/{draft_id}/reject", data={"csrf_token": csrf, "reason": "we call her instead"})
        assert rejected.status_code == 303 and rejected.headers["location"] == "/inbox"
        inbox = (await client.get("/inbox")).text
        assert flash(inbox) == f"Draft {draft_id} rejected." and draft_id not in order(inbox)
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert "we call her instead" in page and "asked for another wording" in page
        # A rejected draft may be approved again, but not rejected twice.
        twice = await client.post(f"/drafts/{draft_id}/reject", data={"csrf_token": csrf})
        assert twice.status_code == 303 and twice.headers["location"] == f"/drafts/{draft_id}"
        assert "it cannot be rejected from there" in refusal((await web_session.followed(client, twice)).text)


@pytest.mark.anyio
async def test_post_now_and_by_hand_then_follow_up(desk: Desk) -> None:
    api, by_hand = desk.drafts["cold"], desk.drafts["rtl"]
    async with logged_in(desk, "olive") as (client, csrf):
        for draft_id in (api, by_hand):
            assert (await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})).status_code == 303
        page = (await client.get(f"/drafts/{by_hand}")).text
        # No reply API on that platform: only the by-hand path is offered.
        assert f'action="/drafts/{by_hand}/post"' not in page and f'action="/drafts/{by_hand}/mark-posted"' in page
        assert f'action="/drafts/{api}/post"' in (await client.get(f"/drafts/{api}")).text
        assert 'data-copy="#reply-copy"' in page and 'href="https://plain.example/rtl"' in page

        posted = await client.post(f"/drafts/{api}/post", data={"csrf_token": csrf})
        assert posted.status_code == 303
        assert flash((await client.get(f"/drafts/{api}")).text) == "Posted to Fakebook (PENDING_PUBLISH)."
        assert desk.draft("cold")["status"] == "posted"

        manual = await client.post(f"/drafts/{by_hand}/post", data={"csrf_token": csrf})
        assert manual.status_code == 303
        assert "copy the reply" in flash((await client.get(f"/drafts/{by_hand}")).text)
        assert desk.draft("rtl")["status"] == "approved"
        marked = await client.post(f"/drafts/{by_hand}/mark-posted", data={"csrf_token": csrf})
        assert marked.status_code == 303 and desk.draft("rtl")["status"] == "posted"

        listed = (await client.get("/followups")).text
        assert f'href="/drafts/{api}"' in listed and f'href="/drafts/{by_hand}"' in listed
        done = await client.post(f"/drafts/{api}/followup", data={"csrf_token": csrf, "outcome": "resolved", "note": "called, sorted"})
        assert done.status_code == 303
        await client.post(f"/drafts/{by_hand}/followup", data={"csrf_token": csrf, "outcome": "no answer"})
        listed = (await client.get("/followups")).text
        assert f'href="/drafts/{api}"' not in listed and f'href="/drafts/{by_hand}"' in listed and "no answer" in listed
        assert "called, sorted" in (await client.get(f"/drafts/{api}")).text
        wrong = await client.post(f"/drafts/{api}/followup", data={"csrf_token": csrf, "outcome": "forgot"})
        assert "unknown follow-up 'forgot'" in refusal((await web_session.followed(client, wrong)).text)
    assert [h["action"] for h in desk.draft("cold")["history"]][-3:] == ["posting", "posted", "follow-up: resolved"]
    assert [h["what"] for h in desk.draft("cold")["history"]][-3:] == ["began posting the reply", "posted the reply",
                                                                      "recorded a follow-up: resolved"]


@pytest.mark.anyio
async def test_an_empty_followups_list_says_so(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, _):
        page = (await client.get("/followups")).text
    assert "No open follow-ups" in page


# --- who may do what -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["mia", "adam"])
async def test_marketers_and_admins_read_but_may_not_act(desk: Desk, name: str) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, name) as (client, csrf):
        page = await client.get(f"/drafts/{draft_id}")
        assert page.status_code == 200 and "Cold soup and a rude waiter" in page.text
        assert forms(page.text) == [] and "<textarea" not in page.text and "Read only" in page.text
        for action, data in (("approve", {}), ("edit", {"text": GOOD}), ("reject", {"reason": "no"}),
                             ("regenerate", {}), ("post", {}), ("mark-posted", {}), ("followup", {"outcome": "resolved"})):
            response = await client.post(f"/drafts/{draft_id}/{action}", data={"csrf_token": csrf, **data})
            assert response.status_code == 403, action
            assert "may not" in response.text
        escalated = await client.post(f"/drafts/{desk.drafts['poison']}/approve", data={"csrf_token": csrf})
        assert escalated.status_code == 403
    row = desk.draft("cold")
    assert row["status"] == "drafted" and row["text"] != GOOD and [h["action"] for h in row["history"]] == ["drafted"]


@pytest.mark.anyio
async def test_an_owner_acts_on_escalated_reviews(desk: Desk) -> None:
    draft_id = desk.drafts["poison"]
    async with logged_in(desk, "olive") as (client, csrf):
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert "Escalated:</strong> illness (food poisoning). Only an owner may act on it." in page
        assert (await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})).status_code == 303
    assert desk.draft("poison")["status"] == "approved"


@pytest.mark.anyio
async def test_a_post_without_a_valid_csrf_token_is_refused(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, csrf):
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
            response = await client.post(f"/drafts/{draft_id}/approve", data=data)
            assert response.status_code == 403 and "Form expired" in response.text
        edit = await client.post(f"/drafts/{draft_id}/edit", data={"text": GOOD}, headers={"X-CSRF-Token": "forged"})
        assert edit.status_code == 403
        # Another browser's session (another site's form) does not carry this session's token.
        async with logged_in(desk, "olive") as (_, other_csrf):
            assert other_csrf != csrf
            assert (await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": other_csrf})).status_code == 403
    row = desk.draft("cold")
    assert row["status"] == "drafted" and [h["action"] for h in row["history"]] == ["drafted"]


@pytest.mark.anyio
async def test_unknown_drafts_are_404(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, csrf):
        assert (await client.get("/drafts/999999")).status_code == 404
        assert (await client.post("/drafts/999999/approve", data={"csrf_token": csrf})).status_code == 404


# --- in a real browser: desk.js under the Content-Security-Policy ------------------------


@contextmanager
def serving(desk: Desk) -> Iterator[str]:
    """The app on a free local port, in a thread, for a browser to load."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(desk.ctx), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.025)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_in_a_browser_the_verdict_follows_the_typing(desk: Desk) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on PATH (.ci/run installs it)")
    draft_id = desk.drafts["cold"]
    problems: list[str] = []
    with serving(desk) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: m.type == "error" and "favicon" not in m.text and "404" not in m.text and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
        page.goto(f"{base}/drafts/{draft_id}")  # -> the login page, then back here
        page.fill("input[name=username]", "olive")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/drafts/{draft_id}")
        approve = page.locator("#approve-button")
        assert approve.is_enabled()

        page.fill("#reply-text", BAD)  # the guard answers as you type
        page.wait_for_selector("#verdict.is-bad #verdict-problems li")
        assert "offers something of value" in page.inner_text("#verdict-problems")
        assert approve.is_disabled() and page.locator("#approve-hint").is_visible()

        page.fill("#reply-text", GOOD)
        page.wait_for_selector("#verdict.is-ok")
        assert page.locator("#verdict-problems li").count() == 0
        assert approve.is_enabled()
        approve.click()  # approval is for the saved text: it asks to save first, and sends nothing
        page.wait_for_selector("#approve-hint.is-urgent")
        assert page.url == f"{base}/drafts/{draft_id}" and desk.draft("cold")["status"] == "drafted"
        page.click("#edit-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#approve-button").is_enabled() and page.locator("#approve-hint").is_hidden()
        page.click("#approve-button")
        page.wait_for_selector("text=Approved: it can go out")
        page.click("button[data-copy]")
        page.wait_for_selector("[data-copy-status]:not(:empty)")
        assert page.inner_text("[data-copy-status]") in ("Copied.", "Selected: press Ctrl+C (⌘C on a Mac) to copy.")

        page.goto(f"{base}/drafts/{desk.drafts['script']}")  # hostile text: shown, never run
        assert "<script>alert('pwned')</script>" in page.inner_text(".review-text")
        page.goto(f"{base}/inbox")
        browser.close()
    assert problems == []
    assert desk.draft("cold")["status"] == "approved" and desk.draft("cold")["text"] == GOOD


@pytest.mark.anyio
async def test_the_sources_page_shows_health_and_owners_can_ask_for_a_poll_now(desk: Desk) -> None:
    async with logged_in(desk, "mia") as (client, csrf):
        page = await client.get("/sources")
        assert page.status_code == 200 and "fb" in page.text and "plain" in page.text and "/poll-now" not in page.text
        refused = await client.post("/sources/fb/poll-now", data={"csrf_token": csrf})
        assert refused.status_code == 403
    async with logged_in(desk, "olive") as (client, csrf):
        assert 'action="/sources/plain/poll-now"' in (await client.get("/sources")).text
        asked = await client.post("/sources/plain/poll-now", data={"csrf_token": csrf})
        assert asked.status_code == 303
        assert flash((await client.get("/sources")).text) == "Polling plain now. This page shows how it went when it ends."
        for _ in range(400):  # polled in the background (tests/web/test_web_poll_now.py has the rest)
            with desk.ctx.session() as session:
                polls = [r["status"] for r in queries.run_rows(session, source="plain")]
            if polls == ["ok", "ok"]:
                break
            await asyncio.sleep(0.05)
    assert polls == ["ok", "ok"]


@pytest.mark.anyio
async def test_nothing_offers_to_publish_before_the_cooling_off_ends(desk: Desk) -> None:
    """Approved but still cooling off: the page says when the reply can go out and offers
    no Post, no Copy and no Mark posted; once the time has come, it offers them."""
    from datetime import timedelta

    from service.models import Draft

    api, by_hand = desk.drafts["cold"], desk.drafts["rtl"]
    async with logged_in(desk, "olive") as (client, csrf):
        for draft_id in (api, by_hand):
            assert (await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})).status_code == 303
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        with desk.ctx.session() as session:
            for draft_id in (api, by_hand):
                draft = session.get(Draft, draft_id)
                draft.post_after = later
                session.add(draft)
            session.commit()
        for draft_id in (api, by_hand):
            page = (await client.get(f"/drafts/{draft_id}")).text
            assert "can go out from" in page
            assert f'action="/drafts/{draft_id}/post"' not in page and f'action="/drafts/{draft_id}/mark-posted"' not in page
            assert 'data-copy="#reply-copy"' not in page
        desk.ctx.clock = lambda: later + timedelta(seconds=1)
        assert f'action="/drafts/{api}/post"' in (await client.get(f"/drafts/{api}")).text
        page = (await client.get(f"/drafts/{by_hand}")).text
        assert f'action="/drafts/{by_hand}/mark-posted"' in page and 'data-copy="#reply-copy"' in page
