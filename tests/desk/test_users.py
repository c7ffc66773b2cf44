"""Accounts: argon2 hashes, lockout after repeated failures, roles enforced by the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.desk import users
from service.errors import ReviewmonError
from service.models import User
from tests.conftest import run_cli


@pytest.fixture
def ctx(make_context):
    return make_context([])


def test_passwords_are_stored_only_as_argon2_hashes(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    with ctx.session() as session:
        stored = session.exec(select(User)).one()
    assert stored.password_hash.startswith("$argon2id$") and "correct horse" not in stored.password_hash
    assert users.authenticate(ctx, "maria", "correct horse battery") == users.Actor("maria", "owner")


def test_wrong_password_and_unknown_name_fail_alike(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    with pytest.raises(users.LoginFailed, match="wrong user name or password") as wrong:
        users.authenticate(ctx, "maria", "nope nope nope")
    with pytest.raises(users.LoginFailed) as unknown:
        users.authenticate(ctx, "mallory", "nope nope nope")
    assert str(wrong.value) == str(unknown.value)


def test_repeated_failures_lock_the_name_for_a_while(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    for _ in range(ctx.config.web.login_attempts):
        with pytest.raises(users.LoginFailed):
            users.authenticate(ctx, "maria", "guess guess guess")
    with pytest.raises(users.LoginFailed, match="too many failed logins"):
        users.authenticate(ctx, "maria", "correct horse battery")  # even the right password waits
    start = ctx.clock()
    ctx.clock = lambda: start + timedelta(minutes=16)
    assert users.authenticate(ctx, "maria", "correct horse battery").name == "maria"


def test_disabled_accounts_cannot_log_in(ctx) -> None:
    users.add_user(ctx, "sam", "marketer", "correct horse battery")
    users.set_disabled(ctx, "sam", True)
    with pytest.raises(users.LoginFailed):
        users.authenticate(ctx, "sam", "correct horse battery")
    assert users.actor_named(ctx, "sam") is None


def test_roles_decide_what_an_actor_may_do() -> None:
    owner, marketer, admin = users.Actor("o", "owner"), users.Actor("m", "marketer"), users.Actor("a", "admin")
    assert owner.can("act") and owner.can("read") and owner.can("manage users")
    assert marketer.can("read") and not marketer.can("act") and not marketer.can("manage users")
    assert admin.can("manage users") and not admin.can("act")
    with pytest.raises(users.Forbidden, match=r"m \(marketer\) may not approve replies"):
        users.require(marketer, "act", "approve replies")


def test_bad_input_is_refused_clearly(ctx) -> None:
    with pytest.raises(ReviewmonError, match="at least 10 characters"):
        users.add_user(ctx, "maria", "owner", "short")
    with pytest.raises(ReviewmonError, match="unknown role"):
        users.add_user(ctx, "maria", "king", "correct horse battery")
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    with pytest.raises(ReviewmonError, match="already a user named"):
        users.add_user(ctx, "maria", "owner", "correct horse battery")


def test_first_owner_only_when_there_is_nobody(ctx) -> None:
    password = users.first_owner(ctx)
    assert password and users.authenticate(ctx, "owner", password).role == "owner"
    assert users.first_owner(ctx) is None


def test_cli_users_add_reads_the_password_from_stdin(ctx, tmp_path) -> None:
    config = tmp_path / "config.toml"
    added = run_cli(config, "users", "add", "sam", "--role", "marketer", "--password-stdin", input="a long enough secret\n")
    assert added.exit_code == 0 and "a long enough secret" not in added.output
    assert users.authenticate(ctx, "sam", "a long enough secret").role == "marketer"
    listed = run_cli(config, "users", "list", "--format", "json")
    assert '"role": "marketer"' in listed.output and "argon2" not in listed.output
