"""Web sessions, kept in the database (the web_sessions table), so that they end when they
should and everywhere at once:

- logging out deletes the session (a copy of its cookie opens nothing after that);
- a new password, a role change, disabling the user or `reviewmon users
  logout-everywhere` delete all of the user's sessions (service/desk/users.py);
- a session unused for [web] session_idle, or older than [web] session_max_age, ends.

A session also carries notes (the session_notes table): what a form's answer leaves for
the page it redirects to, shown once. They end with the session, or after NOTE_TTL.

The browser's cookie carries a random token (256 bits); the table keeps only its SHA-256.
Every request looks its session up, and the user with it: a disabled account or a changed
role takes effect on the next request whatever the cookie says.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import select

from service.context import Context
from service.desk.users import ADDRESS_LENGTH, Actor
from service.models import SessionNote, User, WebSession

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often (and a tenth of session_idle)
NOTE_TTL = timedelta(minutes=30)  # a note not shown by then (the redirect was never followed) is dropped
NOTES_KEPT = 20  # per session: the oldest go first


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(ctx: Context, actor: Actor, *, address: str | None) -> str:
    """A new session for a user who just logged in; returns the token for the cookie.
    Sessions that have ended by age meanwhile (anyone's) are cleared away here."""
    now, web = ctx.clock(), ctx.config.web
    token = secrets.token_urlsafe(32)
    with ctx.session(write=True) as session:
        session.exec(delete(WebSession).where(or_(WebSession.last_seen_at <= now - web.session_idle,
                                                  WebSession.created_at <= now - web.session_max_age)))
        session.exec(delete(SessionNote).where(SessionNote.created_at <= now - NOTE_TTL))
        user_id = session.exec(select(User.id).where(User.name == actor.name)).one()
        session.add(WebSession(token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                               address=(address or None) and address[:ADDRESS_LENGTH]))
    return token


def resume(ctx: Context, token: str) -> Actor | None:
    """The actor of a live session, or None (no such session, ended by age, disabled user)."""
    now, web = ctx.clock(), ctx.config.web
    digest = _digest(token)
    with ctx.session() as session:
        found = session.exec(select(WebSession, User).join(User, User.id == WebSession.user_id)
                             .where(WebSession.token_hash == digest)).first()
    if found is None:
        return None
    web_session, user = found
    if user.disabled or now - web_session.last_seen_at >= web.session_idle or now - web_session.created_at >= web.session_max_age:
        end(ctx, token)
        return None
    if now - web_session.last_seen_at >= min(TOUCH_EVERY, web.session_idle / 10):
        with ctx.session() as session:  # one UPDATE, no read first: no write lock taken early on SQLite
            session.exec(update(WebSession).where(WebSession.id == web_session.id).values(last_seen_at=now))
    return Actor(user.name, user.role)


def end(ctx: Context, token: str) -> None:
    """Log out: the session ends, for every copy of its cookie."""
    with ctx.session() as session:
        session.exec(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def leave_note(ctx: Context, token: str, page: str, data: dict) -> bool:
    """Keep `data` (JSON) for the session's next view of `page`, in place of any note
    already left for it. False if the session has ended (nothing kept)."""
    now = ctx.clock()
    with ctx.session(write=True) as session:
        session_id = session.exec(select(WebSession.id).where(WebSession.token_hash == _digest(token))).first()
        if session_id is None:
            return False
        mine = SessionNote.session_id == session_id
        session.exec(delete(SessionNote).where(mine, or_(SessionNote.page == page, SessionNote.created_at <= now - NOTE_TTL)))
        older = session.exec(select(SessionNote.id).where(mine).order_by(SessionNote.created_at.desc(), SessionNote.id.desc())
                             .offset(NOTES_KEPT - 1)).all()
        if older:
            session.exec(delete(SessionNote).where(SessionNote.id.in_(older)))
        session.add(SessionNote(session_id=session_id, page=page, data=data, created_at=now))
    return True


def take_note(ctx: Context, token: str, page: str) -> dict | None:
    """The note left for `page`, once: it is deleted as it is taken, and of two requests
    that read it at once only the one whose delete removed it gets it."""
    with ctx.session() as session:
        found = session.exec(select(SessionNote.id, SessionNote.data, SessionNote.created_at)
                             .join(WebSession, WebSession.id == SessionNote.session_id)
                             .where(WebSession.token_hash == _digest(token), SessionNote.page == page)).first()
    if found is None:
        return None
    note_id, data, created_at = found
    with ctx.session() as session:
        taken = session.exec(delete(SessionNote).where(SessionNote.id == note_id)).rowcount == 1
    return data if taken and ctx.clock() - created_at < NOTE_TTL else None
