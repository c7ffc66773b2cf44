"""The connector registry: built-ins and other packages' connectors (entry points) by
their config `type`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import connectors
from service import config as config_module
from service.errors import ConfigError
from tests.conftest import write_config

PLUGIN = '''
from connectors import base


class Options(base.Options):
    shop: str


class MyConnector:
    Options = Options
    capabilities = base.Capabilities(platform="MyPlatform")

    def __init__(self, options, **_):
        self.options = options

    async def fetch(self, cursor):
        yield base.Page(reviews=[], errors=[], cursor=None, complete=True)
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An installed package that adds the type `myplatform`, and tries to take `file`."""
    site = tmp_path / "site"
    (site / "myplugin-1.0.dist-info").mkdir(parents=True)
    (site / "myplugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (site / "myplugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[reviewmon.connectors]\nmyplatform = myplugin:MyConnector\nfile = myplugin:MyConnector\n")
    (site / "myplugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    connectors._plugins.cache_clear()
    yield
    connectors._plugins.cache_clear()
    connectors._loaded.pop("myplatform", None)
    sys.modules.pop("myplugin", None)


def test_another_packages_connector_is_a_source_type(plugin, tmp_path: Path, database_url: str) -> None:
    assert connectors.known("myplatform") and "myplatform" in connectors.names()
    path = write_config(tmp_path, database_url, [{"name": "mine", "type": "myplatform", "shop": "s-1"}])
    source = config_module.load(path).source("mine")
    assert source.options.shop == "s-1"  # validated against the plugin's own options
    assert connectors.capabilities_of("myplatform").platform == "MyPlatform"
    assert connectors.get("file").__module__ == "connectors.file"  # a plugin cannot replace a built-in


def test_an_unknown_type_is_refused_with_the_known_ones(tmp_path: Path, database_url: str) -> None:
    path = write_config(tmp_path, database_url, [{"name": "x", "type": "myspace"}])
    with pytest.raises(ConfigError, match="unknown source type 'myspace'; known: appstore, .*file.*yelp"):
        config_module.load(path)
    with pytest.raises(KeyError, match="unknown source type 'myspace'"):
        connectors.get("myspace")
    assert connectors.capabilities_of("myspace").platform == "" and not connectors.capabilities_of("myspace").can_reply
