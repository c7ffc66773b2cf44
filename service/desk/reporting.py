"""Where an owner reports a review that looks like spam or a fake (its triage mark).

Platforms take reports on the review itself (a flag or "Report" beside it, in the
business's own account), so the first place to go is the review's own page: its link,
when the platform gave one and it is a web address. Beside it, each platform's public
help page on reporting a review says how, and what the platform removes:

- Google Business Profile: "Report inappropriate reviews on your Business Profile";
- Google Play: "Report inappropriate reviews" (Play Console);
- App Store: App Store Connect Help, "Ratings and reviews" ("Report a Concern");
- Trustpilot: "How to flag reviews from your business account";
- Yelp: "How do I report content that violates Yelp's Content Guidelines?";
- Tripadvisor: "How can owners alert Tripadvisor to fraud?".

A file of reviews (and the bundled sample) and a web page's JSON-LD come from no platform
reviewmon knows: only the review's own link is offered, else a sentence that says so.
A plain table on purpose: a help page that moves is one line to change.
"""

from __future__ import annotations

from typing import NamedTuple

from service.output import web_link

_APPLE = "https://developer.apple.com/help/app-store-connect/monitor-ratings-and-reviews/ratings-and-reviews-overview"

# A source's `type` (connectors.BUILT_IN) -> its platform's help page on reporting a review.
HELP_PAGES = {
    "google": "https://support.google.com/business/answer/4596773",
    "googleplay": "https://support.google.com/googleplay/android-developer/answer/7318385",
    "appstore": _APPLE,
    "appstoreconnect": _APPLE,
    "trustpilot": "https://support.trustpilot.com/hc/en-us/articles/202194328",
    "yelp": "https://www.yelp-support.com/article/How-do-I-report-content-that-violates-Yelp-s-Content-Guidelines-or-Terms-of-Service?l=en_US",
    "tripadvisor": "https://www.tripadvisorsupport.com/hc/en-us/articles/200614397",
}
FROM_A_FILE = frozenset({"file", "sample"})


class Report(NamedTuple):
    url: str | None  # where to go: the review's own page, else the platform's help page
    help: str | None  # the platform's help page on reporting a review
    note: str | None  # when there is nowhere to go: why, in a sentence


def where_to_report(source_type: str | None, review_url: str | None) -> Report:
    """Where the owner reports this review: its own page and its platform's help page."""
    page, help_page = web_link(review_url), HELP_PAGES.get(source_type or "")
    if page or help_page:
        return Report(page or help_page, help_page, None)
    if source_type in FROM_A_FILE:
        return Report(None, None, "From a file: no platform to report it to.")
    return Report(None, None, "No link to it and no known help page: report it where it was published.")
