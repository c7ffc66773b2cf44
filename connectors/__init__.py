"""Connectors read reviews from one kind of source each; this module is their registry.

Built-ins are listed by hand below. Other packages add connectors through the
`reviewmon.connectors` entry-point group (name = the `type` used in the config).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from connectors.base import Capabilities, Connector, Page, ReviewData, RowError

__all__ = ["Capabilities", "Connector", "Page", "ReviewData", "RowError", "available", "capabilities_of", "get"]


@cache
def available() -> dict[str, type[Connector]]:
    """Every connector type this installation knows, by its config `type` name."""
    from connectors.appstore import AppStoreFeedConnector
    from connectors.appstore_connect import AppStoreConnectConnector
    from connectors.file import FileConnector
    from connectors.google import GoogleBusinessConnector
    from connectors.googleplay import GooglePlayConnector
    from connectors.jsonld import JsonLdConnector
    from connectors.sample import SampleConnector
    from connectors.tripadvisor import TripadvisorConnector
    from connectors.trustpilot import TrustpilotConnector
    from connectors.yelp import YelpConnector

    found: dict[str, type[Connector]] = {
        "file": FileConnector,
        "sample": SampleConnector,
        "google": GoogleBusinessConnector,
        "appstore": AppStoreFeedConnector,
        "appstoreconnect": AppStoreConnectConnector,
        "googleplay": GooglePlayConnector,
        "trustpilot": TrustpilotConnector,
        "yelp": YelpConnector,
        "tripadvisor": TripadvisorConnector,
        "jsonld": JsonLdConnector,
    }
    for ep in entry_points(group="reviewmon.connectors"):
        found.setdefault(ep.name, ep.load())
    return found


def capabilities_of(type_name: str | None) -> Capabilities:
    """What a source type's platform allows (replies, limits, retention), without building
    a connector. A type no longer installed allows nothing."""
    connector = available().get(type_name or "")
    return connector.capabilities if connector is not None else Capabilities(platform="")


def get(type_name: str) -> type[Connector]:
    try:
        return available()[type_name]
    except KeyError:
        raise KeyError(f"unknown source type {type_name!r}; known: {', '.join(sorted(available()))}") from None
