"""Accounts: argon2 hashes, throttled failures, roles enforced by the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.desk import users
from service.errors import ReviewmonError
from service.models import User
from tests.conftest import run_cli

HOME = "192.0.2.10"  # the client's address


@pytest.fixture
def ctx(make_context):
    return make_context([])


def test_passwords_are_stored_only_as_argon2_hashes(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    with ctx.session() as session:
        stored = session.exec(select(User)).one()
    assert stored.password_hash.startswith("$argon2id$") and "correct horse" not in stored.password_hash
    assert users.authenticate(ctx, "maria", "correct horse battery", address=HOME) == users.Actor("maria", "owner")


def test_wrong_password_and_unknown_name_fail_alike(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    with pytest.raises(users.LoginFailed, match="wrong user name or password") as wrong:
        users.authenticate(ctx, "maria", "nope nope nope", address=HOME)
    with pytest.raises(users.LoginFailed) as unknown:
        users.authenticate(ctx, "mallory", "nope nope nope", address=HOME)
    assert str(wrong.value) == str(unknown.value)


def test_repeated_failures_throttle_that_address_for_that_name_for_a_while(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    for _ in range(ctx.config.web.login_attempts):
        with pytest.raises(users.LoginFailed):
            users.authenticate(ctx, "maria", "guess guess guess", address=HOME)
    with pytest.raises(users.LoginFailed, match="too many failed logins; wait 15 minutes"):
        users.authenticate(ctx, "maria", "correct horse battery", address=HOME)  # even the right password waits
    assert users.authenticate(ctx, "maria", "correct horse battery", address="198.51.100.2").name == "maria"  # elsewhere: in
    start = ctx.clock()
    ctx.clock = lambda: start + timedelta(minutes=16)
    assert users.authenticate(ctx, "maria", "correct horse battery", address=HOME).name == "maria"


def test_a_successful_login_forgets_that_addresss_earlier_failures_for_the_name(ctx) -> None:
    users.add_user(ctx, "maria", "owner", "correct horse battery")
    for _ in range(ctx.config.web.login_attempts - 1):
        with pytest.raises(users.LoginFailed):
            users.authenticate(ctx, "maria", "typo typo typo", address=HOME)
    users.authenticate(ctx, "maria", "correct horse battery", address=HOME)
    for _ in range(ctx.config.web.login_attempts - 1):  # a few more typos later: not refused unheard
        with pytest.raises(users.LoginFailed, match="wrong user name or password"):
            users.authenticate(ctx, "maria", "typo typo typo", address=HOME)
    assert users.authenticate(ctx, "maria", "correct horse battery", address=HOME).name == "maria"


def test_disabled_accounts_cannot_log_in(ctx) -> None:
    users.add_user(ctx, "sam", "marketer", "correct horse battery")
    users.set_disabled(ctx, "sam", True)
    with pytest.raises(users.LoginFailed):
        users.authenticate(ctx, "sam", "correct horse battery", address=HOME)
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
    assert password and users.authenticate(ctx, "owner", password, address=HOME).role == "owner"
    assert users.first_owner(ctx) is None


def test_cli_users_add_reads_the_password_from_stdin(ctx, tmp_path) -> None:
    config = tmp_path / "config.toml"
    added = run_cli(config, "users", "add", "sam", "--role", "marketer", "--password-stdin", input="a long enough secret\n")
    assert added.exit_code == 0 and "a long enough secret" not in added.output
    assert users.authenticate(ctx, "sam", "a long enough secret", address=HOME).role == "marketer"
    listed = run_cli(config, "users", "list", "--format", "json")
    assert '"role": "marketer"' in listed.output and "argon2" not in listed.output
