"""Start-up cost: every cron poll is a new process, so what a poll imports that it does
not use is paid on every run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import run_cli, write_config, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def test_a_file_source_does_not_load_the_other_platforms_code(tmp_path: Path) -> None:
    """Each cron poll starts a new process: one of a file source should not pay for the
    HTML parser, the JWT signer and the other platforms' modules."""
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", [{"name": "site", "type": "file", "path": "r.jsonl"}])
    script = textwrap.dedent(f"""
        import sys
        from service import cli, config
        config.load({str(path)!r})
        others = sorted(m for m in sys.modules if m.startswith("connectors.") and m.split(".")[1] in
                        {{"google", "googleplay", "appstore", "appstore_connect", "trustpilot", "yelp", "tripadvisor", "jsonld", "sample"}})
        print(others, "bs4" in sys.modules, "connectors.file" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=ROOT)
    assert done.stdout.split() == ["[]", "False", "True"]


def test_a_poll_with_nothing_due_does_not_load_the_http_stack(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "text": "Fine.", "rating": 4}])
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", [{"name": "site", "type": "file", "path": "r.jsonl"}])
    assert run_cli(path, "migrate").exit_code == 0 and run_cli(path, "poll").exit_code == 0  # now nothing is due
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "service", "--config", str(path), "poll"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout == ""  # quiet, as cron wants
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "service.polling.poll" in imported and "httpx" not in imported
