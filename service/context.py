"""The objects one reviewmon process shares: config, database engine, clock, and the
costly helpers (VADER, compiled templates, the ingester) built once on first use.

The CLI, the web app and the scheduler each open one Context and pass it to the
service functions; none of them builds engines or sessions of its own. The context
knows no stage: each helper is made by the stage that owns it (reading.sentiment.
scorer_of, replies.drafter.drafter_of, polling.ingest.ingester_of) and only kept here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import db
from service.config import Config
from service.models import utcnow

T = TypeVar("T")


@dataclass
class Context:
    config: Config
    engine: Engine
    clock: Callable[[], datetime] = field(default=utcnow)
    _helpers: dict[str, Any] = field(default_factory=dict, repr=False)

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

    def helper(self, name: str, make: Callable[[], T]) -> T:
        """The process's one `name` helper, made by `make()` on first use."""
        if name not in self._helpers:
            self._helpers[name] = make()
        return self._helpers[name]
