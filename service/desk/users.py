"""People and what they may do: accounts, roles, passwords, login throttling.

Roles (README, "Accounts"): owner may do everything; marketer reads reviews and trends;
admin manages users and reads. Every rule about who may do what is `require()` here,
called by the service functions themselves, so the web app and the CLI cannot differ.
Passwords are hashed with argon2id (argon2-cffi) and never stored or logged otherwise.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, update
from sqlalchemy import text as sa_text
from sqlmodel import Session, col, select

from service.context import Context
from service.errors import ReviewmonError
from service.models import TOKEN_ACTOR, LoginFailure, Role, User, WebSession

log = logging.getLogger("reviewmon.web")

MIN_PASSWORD = 10
NAME_LENGTH, ADDRESS_LENGTH = 100, 64  # as the columns hold them
FAILURES_SHOWN = timedelta(hours=24)  # what `reviewmon users list` counts as recent failed logins
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
    def __init__(self, message: str, *, delay: float = 0.0):
        super().__init__(message)
        self.delay = delay  # seconds the answer should wait: the name is being guessed from many addresses


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
    if name.startswith(TOKEN_ACTOR):
        raise ReviewmonError(f"a user name may not start with {TOKEN_ACTOR!r}: the drafts' history names API tokens so")
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


def set_password(ctx: Context, name: str, password: str) -> int:
    """A new password; every session of the user ends (how many is returned)."""
    _check_password(password)
    password_hash = _hasher.hash(password)
    with ctx.session(write=True) as session:
        user = _by_name(session, name)
        user.password_hash = password_hash
        return _end_sessions(session, user)


def set_disabled(ctx: Context, name: str, disabled: bool) -> int:
    """Disable (or enable) an account; disabling ends its sessions (how many is returned)."""
    with ctx.session(write=True) as session:
        user = _by_name(session, name)
        user.disabled = disabled
        return _end_sessions(session, user) if disabled else 0


def set_role(ctx: Context, name: str, role: str) -> int:
    """Another role; the user's sessions end, so that no page keeps the old one's rights."""
    if role not in PERMISSIONS:
        raise ReviewmonError(f"unknown role {role!r}; roles: {', '.join(PERMISSIONS)}")
    with ctx.session(write=True) as session:
        user = _by_name(session, name)
        user.role = role
        return _end_sessions(session, user)


def logout_everywhere(ctx: Context, name: str) -> int:
    """End every session of the user (a lost phone, a shared computer); how many ended."""
    with ctx.session(write=True) as session:
        return _end_sessions(session, _by_name(session, name))


def _end_sessions(session: Session, user: User) -> int:
    return session.exec(delete(WebSession).where(WebSession.user_id == user.id)).rowcount


def list_users(ctx: Context) -> list[dict[str, object]]:
    """Each account with its live sessions and its failed logins of the last FAILURES_SHOWN."""
    now, web = ctx.clock(), ctx.config.web
    with ctx.session() as session:
        live = dict(session.exec(
            select(WebSession.user_id, func.count()).where(WebSession.last_seen_at > now - web.session_idle,
                                                           WebSession.created_at > now - web.session_max_age)
            .group_by(WebSession.user_id)).all())
        failed = {name: (n, last) for name, n, last in session.exec(
            select(LoginFailure.name, func.count(), func.max(LoginFailure.at))
            .where(LoginFailure.at > now - FAILURES_SHOWN).group_by(LoginFailure.name)).all()}
        return [
            {"name": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at,
             "sessions": live.get(u.id, 0), "failed_logins": failed.get(u.name, (0, None))[0],
             "last_failed_login": failed.get(u.name, (0, None))[1]}
            for u in session.exec(select(User).order_by(User.name))
        ]


def _by_name(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise ReviewmonError(f"no user named {name!r}")
    return user


def authenticate(ctx: Context, name: str, password: str, *, address: str) -> Actor:
    """The actor for a correct name and password tried from client `address`; LoginFailed
    otherwise, saying nothing about which part was wrong.

    Throttling, in failures within [web] lockout: from one address for one name, at most
    login_attempts; from one address, login_attempts_per_address (an IPv6 address counts
    as its /64, what one customer line gets). Past either, the attempt is refused unheard
    ("too many failed logins"), whatever the password. A name's failures from every
    address only slow its wrong answers (LoginFailed.delay): a stranger can throttle only
    their own address, never lock an owner out.

    Every attempt costs one argon2 check (against a stand-in hash for a name nobody has,
    or for an attempt refused unheard) and the same queries, so neither the answer nor
    its time tells which names exist."""
    web, now = ctx.config.web, ctx.clock()
    name, address = name.strip()[:NAME_LENGTH], client_key(address)
    attempt_id, throttled, for_name, user = _attempt(ctx, name, address, now)
    checked = _verify(user.password_hash if user is not None and not throttled else _dummy_hash(), password)
    ok = checked and user is not None and not user.disabled and not throttled
    rehashed = _hasher.hash(password) if ok and _hasher.check_needs_rehash(user.password_hash) else None
    if ok:
        with ctx.session(write=True) as session:  # not a failure after all; the earlier ones of this pair are forgiven
            session.exec(delete(LoginFailure).where(LoginFailure.id == attempt_id))
            session.exec(update(LoginFailure).where(LoginFailure.address == address, LoginFailure.name == name)
                         .values(cleared=True))
            if rehashed:
                session.exec(update(User).where(User.id == user.id).values(password_hash=rehashed))
        return Actor(user.name, user.role)
    log.info("failed login for %r from %r%s", name, address, " (refused unheard: too many)" if throttled else "")
    delay = web.login_delay.total_seconds() if for_name > web.login_attempts else 0.0
    if throttled:
        raise LoginFailed(f"too many failed logins; wait {_minutes(web.lockout)} and try again", delay=delay)
    raise LoginFailed("wrong user name or password", delay=delay)


def _attempt(ctx: Context, name: str, address: str, now: datetime) -> tuple[int | None, bool, int, User | None]:
    """Record the attempt as a failure before the password is checked, and count it with
    the recent ones: so that many attempts at once cannot all slip under the limits while
    their passwords are checked. One past a limit is not kept (refused unheard, it does
    not count). Returns (its row id, refused unheard?, the name's failures, the user)."""
    web = ctx.config.web
    with ctx.session(write=True) as session:  # SQLite: BEGIN IMMEDIATE, one writer at a time
        if session.get_bind().dialect.name == "postgresql":  # one attempt per address at a time
            session.exec(sa_text("SELECT pg_advisory_xact_lock(hashtext(:key))").bindparams(key=f"login {address}"))
        session.exec(delete(LoginFailure).where(LoginFailure.at < now - max(FAILURES_SHOWN, web.lockout)))
        attempt = LoginFailure(at=now, address=address, name=name)
        session.add(attempt)
        session.flush()
        pair, from_address, for_name = _recent_failures(session, address, name, now - web.lockout)
        throttled = pair > web.login_attempts or from_address > web.login_attempts_per_address
        if throttled:
            session.delete(attempt)
        user = session.exec(select(User).where(User.name == name)).first()
        return (None if throttled else attempt.id), throttled, for_name, user


def client_key(address: str | None) -> str:
    """What throttling counts an address as: itself, an IPv6 one as its /64 network."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:ADDRESS_LENGTH]
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _recent_failures(session: Session, address: str, name: str, since: datetime) -> tuple[int, int, int]:
    """Failures since `since`: of this address with this name (not cleared by a login
    since), of this address, of this name."""
    same_address, same_name = LoginFailure.address == address, LoginFailure.name == name
    counts = session.exec(
        select(func.count().filter(same_address, same_name, col(LoginFailure.cleared).is_(False)),
               func.count().filter(same_address), func.count().filter(same_name))
        .where(LoginFailure.at > since, or_(same_address, same_name))
    ).one()
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


def actor_named(ctx: Context, name: str) -> Actor | None:
    """The actor for a user name, if the account exists and is enabled."""
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


def _minutes(span: timedelta) -> str:
    minutes = max(1, round(span.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
