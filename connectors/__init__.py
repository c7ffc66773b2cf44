"""Connectors read reviews from one kind of source each; this module is their registry.

Built-ins are listed by hand below. Other packages add connectors through the
`reviewmon.connectors` entry-point group (name = the `type` used in the config).

A connector's module is imported when its type is first asked for, not before: a cron
poll of one file source does not pay for the HTML parser, the JWT signer and the other
platforms' code on every start (about 0.1 s).
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Capabilities, Connector, Page, ReviewData, RowError

__all__ = ["Capabilities", "Connector", "Page", "ReviewData", "RowError", "available", "capabilities_of", "get", "known"]

BUILT_IN = {
    "file": "connectors.file:FileConnector",
    "sample": "connectors.sample:SampleConnector",
    "google": "connectors.google:GoogleBusinessConnector",
    "appstore": "connectors.appstore:AppStoreFeedConnector",
    "appstoreconnect": "connectors.appstore_connect:AppStoreConnectConnector",
    "googleplay": "connectors.googleplay:GooglePlayConnector",
    "trustpilot": "connectors.trustpilot:TrustpilotConnector",
    "yelp": "connectors.yelp:YelpConnector",
    "tripadvisor": "connectors.tripadvisor:TripadvisorConnector",
    "jsonld": "connectors.jsonld:JsonLdConnector",
}

_loaded: dict[str, type[Connector]] = {}  # by type name, as they are first asked for


@cache
def _plugins() -> dict[str, EntryPoint]:
    """Connectors other packages add; a built-in name wins over a plugin's."""
    return {ep.name: ep for ep in entry_points(group="reviewmon.connectors") if ep.name not in BUILT_IN}


def known(type_name: str) -> bool:
    """Whether this installation has a connector of that type (without importing it)."""
    return type_name in _loaded or type_name in BUILT_IN or type_name in _plugins()


def names() -> list[str]:
    return sorted({*_loaded, *BUILT_IN, *_plugins()})


def get(type_name: str) -> type[Connector]:
    """The connector class of a config `type`, imported on first use."""
    if type_name not in _loaded:
        if type_name in BUILT_IN:
            module, _, name = BUILT_IN[type_name].partition(":")
            _loaded[type_name] = getattr(import_module(module), name)
        elif type_name in _plugins():
            _loaded[type_name] = _plugins()[type_name].load()
        else:
            raise KeyError(f"unknown source type {type_name!r}; known: {', '.join(names())}")
    return _loaded[type_name]


def available() -> dict[str, type[Connector]]:
    """Every connector type this installation knows, by its config `type` name (imports
    them all: for listings and checks over every connector, not for a poll)."""
    for type_name in names():
        get(type_name)
    return _loaded


def capabilities_of(type_name: str | None) -> Capabilities:
    """What a source type's platform allows (replies, limits, retention), without building
    a connector. A type no longer installed allows nothing."""
    if not type_name or not known(type_name):
        return Capabilities(platform="")
    return get(type_name).capabilities
