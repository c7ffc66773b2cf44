"""Accounts for the web app: `users add`, `first-owner`, `passwd`, `role`, `disable`,
`logout-everywhere`, `list`. A new password, a new role and disabling end the user's web
sessions at once (service/desk/sessions.py).
"""

from __future__ import annotations

import sys

import click

from service import output
from service.cli.base import State, cli, format_option
from service.models import Role


@cli.group()
def users() -> None:
    """Accounts for the web app (owner, marketer, admin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@click.pass_obj
def users_add(state: State, name: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    from service.desk import users as users_module

    password = _read_password(password_stdin)
    users_module.add_user(state.context(), name, role, password)
    click.echo(f"user {name} added ({role})")


@users.command("first-owner")
@click.argument("name", default="owner")
@click.pass_obj
def users_first_owner(state: State, name: str) -> None:
    """If there is no user yet, create an owner with a random password and print it."""
    from service.desk import users as users_module

    password = users_module.first_owner(state.context(), name)
    if password:
        click.echo(f"first owner account created: user name {name!r}, password {password!r} (change it: reviewmon users passwd {name})")
    else:
        click.echo("users exist already (reviewmon users list; a new password: reviewmon users passwd NAME)")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def users_passwd(state: State, name: str, password_stdin: bool) -> None:
    """Set a user's password; their web sessions end."""
    from service.desk import users as users_module

    ended = users_module.set_password(state.context(), name, _read_password(password_stdin))
    click.echo(f"password of {name} changed{_ended(ended)}")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.pass_obj
def users_role(state: State, name: str, role: str) -> None:
    """Give a user another role; their web sessions end."""
    from service.desk import users as users_module

    ended = users_module.set_role(state.context(), name, role)
    click.echo(f"{name} is now {role}{_ended(ended)}")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again.")
@click.pass_obj
def users_disable(state: State, name: str, enable: bool) -> None:
    """Stop (or allow again) a user's logins; disabling ends their web sessions."""
    from service.desk import users as users_module

    ended = users_module.set_disabled(state.context(), name, not enable)
    click.echo(f"user {name} {'enabled' if enable else 'disabled'}{_ended(ended)}")


@users.command("logout-everywhere")
@click.argument("name")
@click.pass_obj
def users_logout_everywhere(state: State, name: str) -> None:
    """End every web session of a user (a lost phone, a shared computer, a leaked cookie)."""
    from service.desk import users as users_module

    ended = users_module.logout_everywhere(state.context(), name)
    click.echo(f"{ended} session{'s' if ended != 1 else ''} of {name} ended")


USER_FIELDS = ("name", "role", "disabled", "created_at", "sessions", "failed_logins", "last_failed_login")
USER_TABLE = [("name", "name", 20), ("role", "role", 10), ("disabled", "disabled", 8), ("created_at", "created", 16),
              ("sessions", "sessions", 8), ("failed_logins", "failed 24h", 10), ("last_failed_login", "last failed", 16)]


@users.command("list")
@format_option
@click.pass_obj
def users_list(state: State, fmt: str) -> None:
    """The web app's users: roles, live sessions, failed logins in the last 24 hours."""
    from service.desk import users as users_module

    output.emit(users_module.list_users(state.context()), fmt, table_columns=USER_TABLE, fields=USER_FIELDS)


def _ended(count: int) -> str:
    return f"; {count} web session{'s' if count != 1 else ''} ended" if count else ""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)
