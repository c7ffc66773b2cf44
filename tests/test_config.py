"""Config loading: every mistake is named with its file and key, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import config
from service.errors import ConfigError, MissingSecret
from tests.conftest import run_cli

GOOD = """
[business]
name = "Cafe"
contact = "hello@cafe.example"

[[sources]]
name = "imports"
type = "file"
path = "data/reviews.jsonl"
"""


def load_text(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, GOOD)
    assert cfg.sources[0].options.path == tmp_path.resolve() / "data" / "reviews.jsonl"
    assert cfg.database_url() == f"sqlite:///{tmp_path.resolve() / 'reviewmon.db'}"
    assert cfg.sources[0].schedule.text == "1h"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace('path = "data', 'pth = "data'), "sources[0] (imports).pth: unknown key"),
        (GOOD.replace('name = "Cafe"\n', ""), "business.name: missing (required)"),
        (GOOD.replace('"hello@cafe.example"', '"talk to Bob"'), "business.contact: must be an email address, a phone number or an http(s) URL"),
        (GOOD.replace('type = "file"', 'type = "myspace"'), "sources[0] (imports).type: unknown source type 'myspace'"),
        (GOOD + 'schedule = "soon"\n', "sources[0] (imports).schedule: schedule 'soon' is neither"),
        (GOOD + "\n[sentiment]\nnegative_threshold = 3\n", "sentiment.negative_threshold: Input should be less than or equal to 1"),
        (GOOD + "\n[sentiment]\nnegative_threshold = \"low\"\n", "sentiment.negative_threshold: Input should be a valid number"),
        (GOOD + '\n[database]\nurl = "postgresql://bob:hunter2@db/x"\n', "database: url holds a password"),
        (GOOD + "\n[surprise]\nx = 1\n", "surprise: unknown key"),
        (GOOD + '[[sources]]\nname = "imports"\ntype = "sample"\n', "sources: two sources are named 'imports'"),
        ("[business\n", "not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert str(tmp_path / "config.toml") in str(caught.value)
    assert expected in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Cafe"\n', "").replace('"hello@cafe.example"', '"nope"')
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert "business.name" in str(caught.value) and "business.contact" in str(caught.value)


def test_bad_config_exits_2_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('type = "file"', 'type = "nope"'), encoding="utf-8")
    result = run_cli(path, "poll")
    assert result.exit_code == 2
    assert "sources[0] (imports).type" in result.output


def test_missing_config_file_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWMON_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="copy config.example.toml"):
        config.load()


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("REVIEWMON_CONFIG", str(path))
    assert config.load().path == path.resolve()


def test_database_url_from_a_named_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_text(tmp_path, GOOD + '\n[database]\nurl_env = "RM_TEST_DB"\n')
    monkeypatch.delenv("RM_TEST_DB", raising=False)
    with pytest.raises(MissingSecret, match="RM_TEST_DB is not set .*database.url_env"):
        cfg.database_url()
    monkeypatch.setenv("RM_TEST_DB", "postgresql+psycopg://u:secret@db/reviews")
    assert cfg.database_url() == "postgresql+psycopg://u:secret@db/reviews"


def test_contact_kind_is_recognised(tmp_path: Path) -> None:
    for contact, kind in [("a@b.example", "email"), ("+44 20 7946 0000", "phone"), ("https://x.example/contact", "url")]:
        cfg = load_text(tmp_path, GOOD.replace("hello@cafe.example", contact))
        assert cfg.business.contact_channel.kind == kind


def test_the_example_config_is_valid() -> None:
    cfg = config.load(Path(__file__).parent.parent / "config.example.toml")
    assert [s.type for s in cfg.sources] == ["sample"]
