"""People and what they may do: accounts, roles, passwords, login throttling.

Roles (README, "Accounts"): owner may do everything; marketer reads reviews and trends;
admin manages users and reads. Every rule about who may do what is `require()` here,
called by the service functions themselves, so the web app and the CLI cannot differ.
Passwords are hashed with argon2id (argon2-cffi) and never stored or logged otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from service.context import Context
from service.errors import ReviewmonError
from service.models import Role, User

MIN_PASSWORD = 10
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the name is unknown takes as long as a real check, so
    response times do not tell which names exist. Made on first use: hashing is slow on
    purpose, and a cron poll that never logs anyone in should not pay for it."""
    return _hasher.hash("reviewmon-no-such-user")


PERMISSIONS: dict[str, frozenset[str]] = {
    Role.owner: frozenset({"read", "act", "manage users"}),
    Role.marketer: frozenset({"read"}),
    Role.admin: frozenset({"read", "manage users"}),
}


class Forbidden(ReviewmonError):
    """The actor's role does not allow this."""


class LoginFailed(ReviewmonError):
    pass


class UnknownActor(ReviewmonError):
    """The command line was told to act as someone without an active account."""

    exit_code = 2


@dataclass(frozen=True)
class Actor:
    """Who is acting: the web app's logged-in user; the command line's account (acting_as)."""

    name: str
    role: str = Role.owner

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def as_actor(actor: Actor | str) -> Actor:
    return actor if isinstance(actor, Actor) else Actor(actor)


def require(actor: Actor | str, permission: str, what: str) -> Actor:
    actor = as_actor(actor)
    if not actor.can(permission):
        raise Forbidden(f"{actor.name} ({actor.role}) may not {what}")
    return actor


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ReviewmonError(f"the password must have at least {MIN_PASSWORD} characters")


def add_user(ctx: Context, name: str, role: str, password: str) -> User:
    if role not in PERMISSIONS:
        raise ReviewmonError(f"unknown role {role!r}; roles: {', '.join(PERMISSIONS)}")
    name = name.strip()
    if not name or len(name) > 100:
        raise ReviewmonError("a user name must have 1 to 100 characters")
    _check_password(password)
    with ctx.session() as session:
        if session.exec(select(User).where(User.name == name)).first():
            raise ReviewmonError(f"there is already a user named {name!r}")
        user = User(name=name, role=role, password_hash=_hasher.hash(password), created_at=ctx.clock())
        session.add(user)
        session.flush()
        return user


def first_owner(ctx: Context, name: str = "owner") -> str | None:
    """Create an owner with a random password when there is no user at all; returns the
    password (shown once, never stored in clear), or None when users exist."""
    with ctx.session() as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return None
    password = secrets.token_urlsafe(12)
    add_user(ctx, name, Role.owner, password)
    return password


def set_password(ctx: Context, name: str, password: str) -> None:
    _check_password(password)
    with ctx.session() as session:
        user = _by_name(session, name)
        user.password_hash, user.failed_logins, user.locked_until = _hasher.hash(password), 0, None


def set_disabled(ctx: Context, name: str, disabled: bool) -> None:
    with ctx.session() as session:
        _by_name(session, name).disabled = disabled


def list_users(ctx: Context) -> list[dict[str, object]]:
    with ctx.session() as session:
        return [
            {"name": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at, "locked_until": u.locked_until}
            for u in session.exec(select(User).order_by(User.name))
        ]


def _by_name(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise ReviewmonError(f"no user named {name!r}")
    return user


def authenticate(ctx: Context, name: str, password: str) -> Actor:
    """The actor for a correct name and password; LoginFailed otherwise, saying nothing
    about which part was wrong. Repeated failures lock the name for a while."""
    now = ctx.clock()
    with ctx.session() as session:
        user = session.exec(select(User).where(User.name == name.strip())).first()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            raise LoginFailed(f"too many failed logins; try again after {_when(user.locked_until)}")
        ok = _verify(user.password_hash if user else _dummy_hash(), password)
        if user is None or user.disabled or not ok:
            if user is not None and not ok:
                user.failed_logins += 1
                if user.failed_logins >= ctx.config.web.login_attempts:
                    user.locked_until, user.failed_logins = now + ctx.config.web.lockout, 0
            failed = True
        else:
            user.failed_logins, user.locked_until = 0, None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            failed = False
            actor = Actor(user.name, user.role)
    if failed:
        raise LoginFailed("wrong user name or password")
    return actor


def actor_named(ctx: Context, name: str) -> Actor | None:
    """The actor for a session's user, if the account still exists and is enabled."""
    with ctx.session() as session:
        user = session.exec(select(User).where(User.name == name)).first()
        return Actor(user.name, user.role) if user and not user.disabled else None


def acting_as(ctx: Context, name: str) -> Actor:
    """Who the command line acts as. Once accounts exist: the enabled account of that name,
    with its role, as the web app would have it (UnknownActor otherwise). Before any
    account exists (a fresh install, before `reviewmon users first-owner`): the shell's
    trust, `name` being only a name for the drafts' history."""
    actor = actor_named(ctx, name)
    if actor is not None:
        return actor
    with ctx.session() as session:
        if session.exec(select(User.id).limit(1)).first() is None:
            return Actor(name)
        disabled = session.exec(select(User.id).where(User.name == name)).first() is not None
    if disabled:
        raise UnknownActor(f"the account {name!r} is disabled; act as another (reviewmon users list)")
    raise UnknownActor(f"there is no account named {name!r}: once accounts exist, --user (default: $REVIEWMON_USER, "
                       "else your login name) must name one (reviewmon users list)")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _when(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")
