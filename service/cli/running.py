"""Running reviewmon: `migrate`, `worker` (the scheduler alone) and `serve` (the web
app, with the scheduler unless told otherwise).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import click

from service import db, logs
from service.cli.base import State, cli
from service.config import read_secret

if TYPE_CHECKING:
    from service.context import Context


@cli.command()
@click.pass_obj
def migrate(state: State) -> None:
    """Create or upgrade the database schema (safe to run any time)."""
    ctx = state.context(check_schema=False)
    before, after = db.migrate(ctx.engine)
    where = ctx.engine.url.render_as_string(hide_password=True)
    click.echo(f"{where}: already at schema {after}" if before == after else f"{where}: migrated from {before or 'empty'} to {after}")


@cli.command()
@click.option("--metrics-port", type=click.IntRange(1, 65535), metavar="PORT", help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics.")
@click.pass_obj
def worker(state: State, metrics_port: int | None) -> None:
    """Run the scheduler alone: poll sources as they fall due, send alerts (no web app).

    Start as many as you like, on one machine or several, on one PostgreSQL database:
    they share the due sources. Stops cleanly on SIGTERM or Ctrl-C.
    """
    from service.polling.worker import run_until_stopped

    ctx = state.context()
    _long_running(state)
    if metrics_port:
        _serve_metrics(ctx, metrics_port)
    click.echo(f"reviewmon: worker started for {len(ctx.config.sources)} sources (Ctrl-C to stop)", err=True)
    asyncio.run(_until_signalled(lambda stop: run_until_stopped(ctx, stop)))


def _serve_metrics(ctx: Context, port: int) -> None:
    """Prometheus metrics on 127.0.0.1:PORT/metrics, in a thread, answering only requests
    that name this machine as Host (like the web app's /metrics): a page on another site
    that rebinds its own name to 127.0.0.1 sends its own name, and is refused (421)."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import make_wsgi_app

    from service import health, metrics
    from service.web.security import host_of, known_hosts

    metrics.REGISTRY.register(health.DatabaseCollector(ctx))
    exposition, hosts = make_wsgi_app(metrics.REGISTRY), known_hosts(ctx.config.web, "127.0.0.1")

    def checked(environ: dict, start_response: Any) -> Any:
        if host_of(environ.get("HTTP_HOST", "")) not in hosts:
            start_response("421 Misdirected Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not served under this host name\n"]
        return exposition(environ, start_response)

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            """Scrapes are not news: nothing per request on stderr."""

    server = make_server("127.0.0.1", port, checked, server_class=Server, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


def _long_running(state: State) -> None:
    """For `serve` and `worker`. A service's log is its record: one line per poll of a
    source unless told otherwise; and `kill -USR1 PID` prints every thread's stack."""
    import faulthandler
    import signal

    if state.log_level is None:
        logs.set_level("info")
    faulthandler.register(signal.SIGUSR1)


async def _until_signalled(main: Any) -> None:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await main(stop)


@cli.command()
@click.option("--host", help="Listen on this address (default: [web] host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Listen on this port (default: [web] port).")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True, help="Also poll sources as they fall due and send alerts, as `reviewmon worker` does.")
@click.pass_obj
def serve(state: State, host: str | None, port: int | None, scheduler: bool) -> None:
    """Serve the web app (inbox, draft editor, trends, /healthz, /metrics) and, unless
    --no-scheduler, the scheduler."""
    import uvicorn

    from service.web import create_app

    ctx = state.context()
    _long_running(state)
    web = ctx.config.web
    secret = read_secret(web.secret_key_env, key="web.secret_key_env") if web.secret_key_env else None
    if secret is None:
        click.echo("note: [web] secret_key_env is not set: sessions end when reviewmon restarts", err=True)
    host, port = host or web.host, port or web.port
    click.echo(f"reviewmon: serving http://{host}:{port}" + (f" as {web.public_url}" if web.public_url else ""))
    # The app itself believes X-Forwarded-* from [web] trusted_proxies only: uvicorn's own
    # handling (which trusts 127.0.0.1 unless told otherwise) stays off.
    app = create_app(ctx, secret_key=secret, scheduler=scheduler, bind_host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
