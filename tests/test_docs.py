"""The README and config.example.toml describe what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import connectors
from service.cli import cli
from service.config import (
    ApiConfig,
    BusinessConfig,
    DatabaseConfig,
    EscalationConfig,
    RepliesConfig,
    SentimentConfig,
    SourceConfig,
    WebConfig,
)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")


def test_every_config_key_is_documented_in_readme_and_example() -> None:
    sections = {"database": DatabaseConfig, "business": BusinessConfig, "sentiment": SentimentConfig, "replies": RepliesConfig,
                "escalation": EscalationConfig, "web": WebConfig, "api": ApiConfig}
    for section, model in sections.items():
        for key in model.model_fields:
            assert f"[{section}] {key}" in README, f"[{section}] {key} missing from README"
            assert re.search(rf"^#?\s*{key}\s*=", EXAMPLE, re.M), f"{key} missing from config.example.toml"
    for key in SourceConfig.model_fields:
        if key != "options":
            assert f"[[sources]] {key}" in README
    for type_name, connector in connectors.available().items():
        assert f"`{type_name}`" in README, type_name
        for key in connector.Options.model_fields:
            assert f"`{key}`" in README, f"{type_name}.{key} missing from README"


def test_every_command_is_in_the_readme() -> None:
    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}"

    for command in walk(cli, "reviewmon "):
        assert f"`{command}" in README, f"{command} is not documented"


def test_readme_shows_the_two_commands_and_ci_runs_make_test() -> None:
    assert "make run" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_commented_source_example_is_a_valid_config(tmp_path, monkeypatch) -> None:
    """Uncomment each example source of config.example.toml: it must load as written."""
    from service import config

    blocks = re.split(r"\n(?=# \[\[sources\]\])", EXAMPLE)
    examples = [b for b in blocks if b.startswith("# [[sources]]")]
    assert len(examples) >= 9
    for block in examples:
        lines = [line[2:] for line in block.splitlines() if re.match(r"# (\[\[sources\]\]|[a-z_]+ = )", line)]
        body = "\n".join(lines)
        body = re.sub(r"\s+#.*$", "", body, flags=re.M)  # trailing comments
        if "googleplay" in body:
            key = tmp_path / "play-service-account.json"
            key.write_text("{}")
        path = tmp_path / "config.toml"
        path.write_text('[business]\nname = "X"\ncontact = "x@x.example"\n\n' + body + "\n")
        loaded = config.load(path)
        assert len(loaded.sources) == 1, body
