"""The objects one reviewmon process shares: config, database engine, clock, and the
costly helpers (VADER, compiled templates) built once on first use.

The CLI, the web app and the scheduler each open one Context and pass it to the
service functions; none of them builds engines or sessions of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import db
from service.config import Config
from service.ingest import PageIngester
from service.models import utcnow
from service.replies import ReplyDrafter
from service.sentiment import SentimentScorer


@dataclass
class Context:
    config: Config
    engine: Engine
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def open(cls, config: Config, *, check_schema: bool = True) -> Context:
        engine = db.make_engine(config.database_url())
        if check_schema:
            db.check_migrated(engine)
        return cls(config=config, engine=engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        with db.session_scope(self.engine, write=write) as session:
            yield session

    @cached_property
    def scorer(self) -> SentimentScorer:
        return SentimentScorer(self.config.sentiment)

    @cached_property
    def drafter(self) -> ReplyDrafter:
        return ReplyDrafter(self.config.business, self.config.templates_dir())

    @cached_property
    def ingester(self) -> PageIngester:
        return PageIngester(self.scorer, self.drafter, self.config.escalation.keywords)
