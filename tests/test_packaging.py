"""An installed wheel finds its templates, migrations and sample data, away from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_runs_the_whole_loop_without_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = dist.glob("reviewmon-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "service/_bundled/alembic/env.py" in names
    assert any(n.startswith("service/_bundled/alembic/versions/") for n in names)
    assert "service/_bundled/reply_templates/es/complaint/warm.j2" in names
    assert "connectors/sample_data/harbour-lane-bistro.jsonl" in names
    assert "service/reading/text_model.json" in names
    stages = {p.name for p in (ROOT / "service").iterdir() if (p / "__init__.py").is_file()}
    assert {f"service/{stage}/__init__.py" for stage in stages} <= set(names)  # every stage ships
    assert not any(n.startswith(("tests/", "alembic/")) for n in names)

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.toml").write_text(
        '[business]\nname = "Cafe"\ncontact = "hi@cafe.example"\n\n[[sources]]\nname = "sample"\ntype = "sample"\n'
    )
    # Only the installed copy is importable: the checkout is neither the cwd nor on the path.
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}

    def reviewmon(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "service", *args], cwd=work, env=env, capture_output=True, text=True)

    where = subprocess.run([sys.executable, "-c", "import service; print(service.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site))
    assert reviewmon("migrate").returncode == 0
    polled = reviewmon("poll", "--verbose")
    assert polled.returncode == 0, polled.stderr
    assert "sample: ok, 200 read, 200 new" in polled.stdout
    read = reviewmon("sentiment", "check", "--text", "Still waiting for my order.")
    assert read.returncode == 0 and "text model" in read.stdout  # the installed copy reads its own model file
    drafts = reviewmon("drafts", "list", "--format", "csv")
    assert drafts.stdout.count("hi@cafe.example") > 20
