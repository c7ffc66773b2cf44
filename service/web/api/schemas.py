"""The shapes of the API's answers, for its OpenAPI document. The answers themselves are
the rows of service.desk.queries as the CLI's JSON gives them (README, "JSON output"):
the fields named here, and maybe more (each model allows extra fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    error: str = Field(description="what went wrong, for a person to read")
    problems: list[str] | None = Field(None, description="the policy guard's reasons, where it refused a text")


class GuardRefusal(Error):
    saved: bool = Field(description="whether the text was saved (an edit is saved even when the guard refuses it)")
    draft: DraftDetail | None = Field(None, description="the draft as it is now, when the text was saved")


class Review(_Open):
    id: int
    source: str
    external_id: str
    rating: int | None
    title: str | None
    text: str
    author: str | None
    location: str | None
    created_at: datetime | None
    updated_at: datetime | None
    written_at: datetime = Field(description="when the review counts as written: created_at, else updated_at, else first seen")
    url: str | None
    owner_reply: str | None
    sentiment: float | None = Field(description="VADER's compound score; null in a language VADER cannot read")
    negative: bool
    reason: str | None
    escalation: str | None
    triage: str | None
    language: str | None
    revisions: int = Field(description="how many earlier versions are kept")


class Revision(_Open):
    rating: int | None
    title: str | None
    text: str
    updated_at: datetime | None
    replaced_at: datetime


class ReviewDetail(Review):
    revision_history: list[Revision]
    draft_id: int | None


class Draft(_Open):
    id: int
    review_id: int
    source: str
    external_id: str
    status: str = Field(description="drafted, approved, rejected, posting, posted, failed, outdated or withdrawn")
    text: str
    policy_ok: bool
    policy_problems: list[str]
    template: str | None
    created_at: datetime
    updated_at: datetime
    edited_by: str | None = Field(description="a person's name, or token:NAME for an API token")
    approved_by: str | None
    approved_at: datetime | None
    post_after: datetime | None = Field(description="the end of the cooling-off time: posted no sooner")
    escalation: str | None


class HistoryEvent(_Open):
    at: datetime
    actor: str = Field(description="a person's name, token:NAME for an API token, or reviewmon")
    action: str
    status: str
    detail: str | None


class DraftDetail(Draft):
    history: list[HistoryEvent]


class Source(_Open):
    name: str
    type: str
    status: str
    schedule: str | None
    reviews: int
    last_success_at: datetime | None
    last_error: str | None
    failure_count: int
    next_poll_at: datetime | None
    warnings: list[str]


class ReviewPage(BaseModel):
    items: list[Review]
    next: str | None = Field(description="the URL of the next page; null on the last one")


class DraftPage(BaseModel):
    items: list[Draft]
    next: str | None = Field(description="the URL of the next page; null on the last one")


class SourcePage(BaseModel):
    items: list[Source]
    next: str | None = Field(description="the URL of the next page; null on the last one")


class TrendReport(_Open):
    """As `reviewmon trends --format json` (README, "Trends")."""

    period: dict[str, Any]
    previous_period: dict[str, Any]
    filters: dict[str, Any]
    totals: dict[str, Any]
    previous: dict[str, Any]
    change: dict[str, Any]
    ratings: dict[str, int]
    previous_ratings: dict[str, int]
    buckets: list[dict[str, Any]]
    by_source: list[dict[str, Any]]
    by_location: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    notes: list[str]


class EditRequest(BaseModel):
    text: str = Field(description="the new reply; saved even when the policy guard refuses it (then 422)")


class ApproveRequest(BaseModel):
    seen_text: str | None = Field(None, description="the text you read: nothing is approved (409) if the draft says something else by now")


class RejectRequest(BaseModel):
    reason: str | None = Field(None, description="kept in the draft's history")


GuardRefusal.model_rebuild()
