"""The dashboard's tables as one CSV: what the marketer sees on screen, section by
section, and the same rows `reviewmon trends --format csv` prints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from service.output import spreadsheet_safe

FIELDS = ("section", "label", "reviews", "mean_rating", "negative", "negative_share", "responded", "response_rate",
          "median_reply_hours", "previous_reviews", "change_reviews")


def _figures(section: str, label: str, figures: dict[str, Any], previous: dict[str, Any] | None = None,
             change: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "section": section, "label": spreadsheet_safe(label),
        **{k: figures.get(k) for k in ("reviews", "mean_rating", "negative", "negative_share", "responded",
                                       "response_rate", "median_reply_hours")},
        "previous_reviews": previous.get("reviews") if previous else None,
        "change_reviews": change.get("reviews") if change else None,
    }


def csv_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Rows for every table of the dashboard, from TrendReport.to_dict()."""
    period = report["period"]
    yield _figures("total", f"{period['start']} to {period['end']}", report["totals"], report["previous"], report["change"])
    for bucket in report["buckets"]:
        yield _figures(f"per {period['bucket']}", bucket["bucket"], bucket)
    for group in report["by_source"]:
        yield _figures("by source", group["source"], group, group["previous"], group["change"])
    for group in report["by_location"]:
        yield _figures("by location", group["location"] or "(none)", group, group["previous"], group["change"])
    for stars, count in report["ratings"].items():
        yield {"section": "ratings", "label": "no rating" if stars == "none" else f"{stars} stars", "reviews": count,
               "previous_reviews": report["previous_ratings"].get(stars)}
    for topic in report["topics"]:
        yield {"section": "topics of negative reviews", "label": spreadsheet_safe(topic["topic"]), "negative": topic["reviews"],
               "negative_share": topic["share"], "previous_reviews": topic["previous"], "change_reviews": topic["change"]}
