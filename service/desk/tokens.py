"""API tokens: keys for programs, apart from people's passwords (README, "API").

A token is a random secret from `secrets` (`rvm_` and 43 URL-safe characters, 256 bits),
shown once when it is made and stored only as its SHA-256: a database that leaks gives
no usable token. A request's token is looked up by its hash (a random secret needs no
slow hash: there is nothing to guess), and compared again in constant time.

A token acts with its role's rights (owner or marketer, users.PERMISSIONS), as the actor
"token:NAME": every step it takes is in the drafts' history under that name, and the
same rules hold as for a person (users.require, the approvals' escalation and second
approver rules). Only those who may manage users make, list and revoke tokens. A revoked
token is kept, and its name is never given to another, so the history stays unambiguous.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from service.context import Context
from service.desk.users import Actor, require
from service.errors import ReviewmonError
from service.models import TOKEN_ACTOR, ApiToken, Role

ROLES = (Role.owner.value, Role.marketer.value)
PREFIX = "rvm_"  # tells a reviewmon token apart in a config or a secret scanner
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A token's "last used" is written at most this often: not one database write per request.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token speaks for."""

    id: int
    name: str
    role: str

    @property
    def actor(self) -> Actor:
        return Actor(TOKEN_ACTOR + self.name, self.role)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_token(ctx: Context, name: str, role: str, *, actor: Actor | str) -> str:
    """Make a token; returns its secret, which is not kept anywhere: show it once."""
    actor = require(actor, "manage users", "make API tokens")
    if role not in ROLES:
        raise ReviewmonError(f"a token's role is {' or '.join(ROLES)}, not {role!r}")
    name = name.strip()
    if not NAME.match(name):
        raise ReviewmonError("a token's name has 1 to 64 letters, digits, dots, dashes or underscores, "
                             "and starts with a letter or digit")
    secret = PREFIX + secrets.token_urlsafe(32)
    with ctx.session(write=True) as session:
        if session.exec(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
            raise ReviewmonError(f"there is already a token named {name!r} (a revoked one keeps its name, "
                                 "so the drafts' history stays clear): choose another name")
        session.add(ApiToken(name=name, role=role, token_hash=token_hash(secret), created_at=ctx.clock(),
                             created_by=actor.name))
    return secret


def list_tokens(ctx: Context, *, actor: Actor | str) -> list[dict[str, object]]:
    require(actor, "manage users", "see the API tokens")
    with ctx.session() as session:
        return [
            {"name": t.name, "role": t.role, "created_at": t.created_at, "created_by": t.created_by,
             "last_used_at": t.last_used_at, "revoked": t.revoked_at is not None, "revoked_at": t.revoked_at}
            for t in session.exec(select(ApiToken).order_by(ApiToken.name))
        ]


def revoke_token(ctx: Context, name: str, *, actor: Actor | str) -> None:
    """The token stops working at once (every request looks it up)."""
    require(actor, "manage users", "revoke API tokens")
    with ctx.session(write=True) as session:
        token = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
        if token is None:
            raise ReviewmonError(f"no token named {name!r}")
        if token.revoked_at is None:
            token.revoked_at = ctx.clock()


def holder_of(ctx: Context, secret: str) -> TokenHolder | None:
    """Who `secret` speaks for, or None for an unknown or revoked token. Notes when it was used."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    wanted = token_hash(secret)
    with ctx.session() as session:
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    if token is None or not hmac.compare_digest(token.token_hash, wanted) or token.revoked_at is not None:
        return None
    now = ctx.clock()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        with ctx.session(write=True) as session:
            session.exec(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
    return TokenHolder(token.id, token.name, token.role)
