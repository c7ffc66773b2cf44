"""Every form of the web app answers with a redirect (post/redirect/get, issue 19): the POST
answers 303 to a page, that page shows the result once, and a reload of it shows the
page without the message, sends nothing again and changes nothing. A refusal comes back
on the page the form was on: a draft action's on the draft's page, with the guard's
reasons and, for an edit, the text that was not saved; a failed login's on /login.

FORMS names every POST route but the JSON ones; test_no_form_is_left_out checks the app
has no other, so that a new form cannot forget to redirect."""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import fastapi.routing
import httpx
import pytest
from sqlmodel import select

from service.desk import approvals, sessions, tokens
from service.models import SessionNote
from service.web import create_app
from tests import web_session
from tests.web import test_web_desk
from tests.web.test_web_desk import (
    BAD,
    GOOD,
    PASSWORD,
    Desk,
    editor_text,
    flash,
    logged_in,
    refusal,
)

desk = test_web_desk.desk  # the same shop: two sources, three accounts, seven drafts

NOT_FORMS = {"/drafts/{draft_id}/check"}  # fetch() from desk.js, answered with JSON


def state(desk: Desk) -> list[tuple]:
    """Everything a form could have changed: each draft's status, text and history, the tokens."""
    drafts = [(desk.draft(name)["status"], desk.draft(name)["text"], len(desk.draft(name)["history"]))
              for name in sorted(desk.drafts)]
    made = [(row["name"], row["revoked"]) for row in tokens.list_tokens(desk.ctx, actor="olive")]
    return drafts + made


def cookie(client: httpx.AsyncClient) -> dict:
    """What the session cookie holds (Starlette's: base64 JSON, then the signature)."""
    payload = client.cookies["reviewmon_session"].split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


Send = Callable[[httpx.AsyncClient, str, int], Awaitable[httpx.Response]]  # client, CSRF token, draft id


@dataclass
class Form:
    """A form's POST, done by `send` after `prepare` (logged in as an owner, or not at all
    with `anonymous`); its answer must redirect to `lands` (`{id}`: the draft's), whose
    page says `expected` (found by `says`) once."""

    send: Send
    lands: str
    says: Callable[[str], str]
    expected: str
    draft: str = "cold"
    prepare: Callable[[Desk], None] = lambda desk: None
    anonymous: bool = False


def _post(action: str, **data: str) -> Send:
    async def send(client: httpx.AsyncClient, csrf: str, draft_id: int) -> httpx.Response:
        return await client.post(action.format(id=draft_id), data={"csrf_token": csrf, **data})

    return send


def _approved(name: str) -> Callable[[Desk], None]:
    return lambda desk: approvals.approve(desk.ctx, desk.drafts[name], actor="olive")


def _token_made(desk: Desk) -> None:
    tokens.add_token(desk.ctx, "old-bot", "marketer", actor="olive")


def secret_shown(page: str) -> str:
    found = re.search(r'id="token-secret"[^>]*>(rvm_[^<]+)<', page)
    return found.group(1) if found else ""


FORMS: dict[str, Form] = {
    "/drafts/{draft_id}/edit": Form(_post("/drafts/{id}/edit", text=GOOD), "/drafts/{id}", flash,
                                    "Saved. The text passes the policy guard."),
    "/drafts/{draft_id}/regenerate": Form(_post("/drafts/{id}/regenerate"), "/drafts/{id}", flash,
                                          "Replaced with another wording."),
    "/drafts/{draft_id}/approve": Form(_post("/drafts/{id}/approve"), "/drafts/{id}", flash,
                                       "Approved: it can go out now."),
    "/drafts/{draft_id}/reject": Form(_post("/drafts/{id}/reject", reason="we call her"), "/inbox", flash,
                                      "Draft {id} rejected."),
    "/drafts/{draft_id}/post": Form(_post("/drafts/{id}/post"), "/drafts/{id}", flash, "Posted to Fakebook (PENDING_PUBLISH).",
                                    prepare=_approved("cold")),
    "/drafts/{draft_id}/mark-posted": Form(_post("/drafts/{id}/mark-posted"), "/drafts/{id}", flash,
                                           "Recorded as posted by hand.", draft="rtl", prepare=_approved("rtl")),
    "/drafts/{draft_id}/followup": Form(_post("/drafts/{id}/followup", outcome="resolved"), "/drafts/{id}", flash,
                                        "Follow-up recorded: resolved.", prepare=_approved("cold")),
    "/admin/tokens": Form(_post("/admin/tokens", name="helpdesk", role="marketer"), "/admin/tokens",
                          lambda page: "secret shown" if secret_shown(page) else "", "secret shown"),
    "/admin/tokens/{name}/revoke": Form(_post("/admin/tokens/old-bot/revoke"), "/admin/tokens", flash,
                                        "Token old-bot revoked: it no longer opens the API.", prepare=_token_made),
    # its message is another change's (issue 19's poll now): that there is one is what counts here
    "/sources/{name}/poll-now": Form(_post("/sources/plain/poll-now"), "/sources",
                                     lambda page: "a message" if flash(page) else "", "a message"),
    "/logout": Form(_post("/logout"), "/login", flash, "Logged out."),
    "/login": Form(_post("/login", username="olive", password="not the password", next="/inbox"), "/login?next=/inbox",
                   lambda page: web_session.login_error(page) or "", "wrong user name or password", anonymous=True),
}


@pytest.mark.anyio
@pytest.mark.parametrize("path", sorted(FORMS))
async def test_a_form_redirects_to_a_page_that_shows_its_result_once(desk: Desk, path: str) -> None:
    form = FORMS[path]
    draft_id = desk.drafts[form.draft]
    form.prepare(desk)
    lands = form.lands.format(id=draft_id)
    async with contextlib.AsyncExitStack() as stack:
        if form.anonymous:
            client = await stack.enter_async_context(desk.client())
            csrf = await web_session.token(client)
        else:
            client, csrf = await stack.enter_async_context(logged_in(desk, "olive"))
        answer = await form.send(client, csrf, draft_id)
        assert answer.status_code == 303 and answer.headers["location"] == lands, (answer.status_code, answer.text[:200])
        page = await client.get(lands)
        assert page.status_code == 200 and form.says(page.text) == form.expected.format(id=draft_id)
        after = state(desk)
        reloaded = await client.get(lands)
        assert reloaded.status_code == 200 and form.says(reloaded.text) == ""
        assert state(desk) == after  # a reload sent nothing


@pytest.mark.anyio
async def test_no_form_is_left_out(desk: Desk) -> None:
    app = create_app(desk.ctx, secret_key=web_session.SECRET_KEY)
    # FastAPI keeps included routers flat in app.routes, or (newer) nested: iter_route_contexts walks them
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(walk(app.routes) if walk else app.routes)
    posts = {route.path for route in routes if "POST" in (route.methods or ()) and not route.path.startswith("/api/")}
    assert {"/login", "/drafts/{draft_id}/approve"} <= posts  # the walk found the routers' routes
    assert posts - NOT_FORMS == set(FORMS), "a new form: add it to FORMS, answering with a redirect"
    assert NOT_FORMS <= posts


# --- refusals come back on the form's page -----------------------------------------------------


@pytest.mark.anyio
async def test_a_text_too_long_to_keep_comes_back_in_the_editor_unsaved(desk: Desk) -> None:
    draft_id, before = desk.drafts["cold"], desk.draft("cold")
    too_long = "Sorry about that.\nPlease email us. " * 700 + "Thanks."  # over approvals.MAX_DRAFT_CHARS
    async with logged_in(desk, "olive") as (client, csrf):
        text = too_long.replace("\n", "\r\n")  # as browsers send it
        answer = await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": text})
        assert answer.status_code == 303 and answer.headers["location"] == f"/drafts/{draft_id}"
        page = (await client.get(f"/drafts/{draft_id}")).text
        assert f"the reply is {len(too_long)} characters; drafts are limited to {approvals.MAX_DRAFT_CHARS}" in refusal(page)
        assert editor_text(page) == too_long  # what was typed, to shorten
        assert html.escape(before["text"], quote=True) in page  # the saved text stays the saved one (data-saved)
        reloaded = (await client.get(f"/drafts/{draft_id}")).text
        assert refusal(reloaded) == "" and editor_text(reloaded) == before["text"]
        assert "Sorry about that" not in json.dumps(cookie(client))  # the text waited in the database
    assert desk.draft("cold") == before  # nothing saved, nothing in the history


@pytest.mark.anyio
async def test_an_approval_the_guard_refuses_shows_its_reasons_on_the_drafts_page(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    approvals.edit(desk.ctx, draft_id, BAD, actor="sean")
    async with logged_in(desk, "olive") as (client, csrf):
        answer = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf, "seen_text": BAD})
        assert answer.status_code == 303 and answer.headers["location"] == f"/drafts/{draft_id}"
        page = (await client.get(f"/drafts/{draft_id}")).text
        said = refusal(page)
        assert f"draft {draft_id} cannot be approved: it fails the policy guard" in said
        for problem in approvals.check_text(desk.ctx, BAD, source_name="fb", source_type="fakereply").problems:
            assert problem in said
        assert editor_text(page) == BAD
        history = len(desk.draft("cold")["history"])
        assert refusal((await client.get(f"/drafts/{draft_id}")).text) == ""  # once
        assert len(desk.draft("cold")["history"]) == history  # the reload refused nothing again
    assert desk.draft("cold")["status"] == "drafted"


@pytest.mark.anyio
async def test_a_second_pair_of_eyes_is_asked_for_on_the_drafts_page(desk: Desk) -> None:
    config = desk.ctx.config
    desk.ctx.config = config.model_copy(update={"replies": config.replies.model_copy(update={"second_approver": True})})
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, csrf):
        await client.post(f"/drafts/{draft_id}/edit", data={"csrf_token": csrf, "text": GOOD})
        answer = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})
        assert answer.status_code == 303 and answer.headers["location"] == f"/drafts/{draft_id}"
        assert "another person must approve it" in refusal((await client.get(f"/drafts/{draft_id}")).text)
    assert desk.draft("cold")["status"] == "drafted"


@pytest.mark.anyio
async def test_programs_that_ask_for_json_still_get_json(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    approvals.edit(desk.ctx, draft_id, BAD, actor="sean")
    headers = {"Accept": "application/json"}
    async with logged_in(desk, "olive") as (client, csrf):
        guard = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf}, headers=headers)
        assert guard.status_code == 422 and "fails the policy guard" in guard.json()["error"] and guard.json()["problems"]
        stale = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf, "seen_text": GOOD}, headers=headers)
        assert stale.status_code == 409 and "after you read it" in stale.json()["error"]
        assert refusal((await client.get(f"/drafts/{draft_id}")).text) == ""  # nothing left for the page
    async with logged_in(desk, "mia") as (client, csrf):  # a role that may not act: 403, as a page or as JSON
        assert (await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf})).status_code == 403
        refused = await client.post(f"/drafts/{draft_id}/reject", data={"csrf_token": csrf}, headers=headers)
        assert refused.status_code == 403 and "may not" in refused.json()["error"]


@pytest.mark.anyio
async def test_a_failed_login_keeps_where_it_was_going(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with desk.client() as client:
        csrf = await web_session.token(client)
        form = {"csrf_token": csrf, "username": "olive", "password": "wrong", "next": f"/drafts/{draft_id}"}
        answer = await client.post("/login", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next=/drafts/{draft_id}"
        page = await client.get(answer.headers["location"])
        assert web_session.login_error(page) == "wrong user name or password" and 'value="olive"' in page.text
        assert f'name="next" value="/drafts/{draft_id}"' in page.text
        assert web_session.login_error(await client.get(answer.headers["location"])) is None  # shown once
        again = await client.post("/login", data={**form, "password": PASSWORD})
        assert again.status_code == 303 and again.headers["location"] == f"/drafts/{draft_id}"


@pytest.mark.anyio
async def test_a_form_sent_after_the_session_ended_leads_back_to_its_page_after_login(desk: Desk) -> None:
    draft_id = desk.drafts["cold"]
    async with logged_in(desk, "olive") as (client, csrf):
        sessions.end(desk.ctx, cookie(client)["sid"])  # logged out elsewhere, or ended by age
        referer = {"Referer": f"http://localhost/drafts/{draft_id}"}
        answer = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf}, headers=referer)
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next=/drafts/{draft_id}"
        elsewhere = {"Referer": "https://evil.example/drafts/1"}
        answer = await client.post(f"/drafts/{draft_id}/approve", data={"csrf_token": csrf}, headers=elsewhere)
        assert answer.headers["location"] == "/login?next=/inbox"
    assert desk.draft("cold")["status"] == "drafted"


@pytest.mark.anyio
async def test_a_new_tokens_secret_is_never_kept_whole(desk: Desk) -> None:
    async with logged_in(desk, "olive") as (client, csrf):
        answer = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "helpdesk", "role": "owner"})
        in_cookie = json.dumps(cookie(client))
        with desk.ctx.session() as session:
            kept = json.dumps([note.data for note in session.exec(select(SessionNote))])
        secret = secret_shown((await web_session.followed(client, answer)).text)
        assert secret.startswith("rvm_") and tokens.holder_of(desk.ctx, secret).actor.name == "token:helpdesk"
        assert "rvm_" not in in_cookie and "rvm_" not in kept and "token_pad" in in_cookie and "sealed" in kept
        with desk.ctx.session() as session:
            assert session.exec(select(SessionNote)).all() == []  # both halves gone once shown
        assert "token_pad" not in cookie(client)


def test_notes_are_shown_once_and_end_with_their_session(desk: Desk) -> None:
    from service.desk.users import Actor

    token = sessions.start(desk.ctx, Actor("olive", "owner"), address=None)
    assert sessions.leave_note(desk.ctx, token, "/drafts/1", {"error": "first"})
    assert sessions.leave_note(desk.ctx, token, "/drafts/1", {"error": "second"})  # in place of the first
    assert sessions.take_note(desk.ctx, token, "/drafts/2") is None
    assert sessions.take_note(desk.ctx, token, "/drafts/1") == {"error": "second"}
    assert sessions.take_note(desk.ctx, token, "/drafts/1") is None
    for n in range(sessions.NOTES_KEPT + 5):
        sessions.leave_note(desk.ctx, token, f"/drafts/{n}", {"n": n})
    with desk.ctx.session() as session:
        assert len(session.exec(select(SessionNote)).all()) == sessions.NOTES_KEPT
    assert sessions.take_note(desk.ctx, token, "/drafts/0") is None  # the oldest went first
    sessions.end(desk.ctx, token)
    with desk.ctx.session() as session:
        assert session.exec(select(SessionNote)).all() == []
    assert not sessions.leave_note(desk.ctx, token, "/drafts/1", {"error": "too late"})
