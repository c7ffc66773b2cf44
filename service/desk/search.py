"""Finding reviews by the words they hold, with the database's own index.

The rule is the one the reviews page, its CSV export and `reviewmon reviews list
--search` have always had: every word of the search must be somewhere in the review's
title or text, in any order and any case, also inside a longer word ("cold" finds
"colder"; % and _ are plain characters). Walking a million reviews for a word none of
them holds took 3 s; the indexes answer from the words' trigrams (bench/search.py):

- SQLite: the FTS5 table `reviews_search` (trigram tokenizer, case-folded), kept in step
  with `reviews` by triggers (alembic/versions/*_0009_review_search.py);
- PostgreSQL: a pg_trgm GIN index on the lower-cased title and text, which LIKE uses.

Lists are newest first. A word many reviews hold is quicker found by reading the newest
reviews and checking each (the first page is among the first few hundred) than by
sorting every review the index names (206,000 of a million for "cold": 260 ms).
COMMON_SHARE balances the two: at 0.5% both take about 30 ms at a million reviews. On
SQLite the index is asked first whether the words are common; PostgreSQL's planner makes
that choice itself. A word shorter than three characters has no trigram: it is checked
row by row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from service.models import Review

SHORTEST_INDEXED = 3  # a trigram index knows words of three characters and more
SQLITE_TABLE = "reviews_search"
COMMON_SHARE = 0.005  # a word held by this share of the reviews is read newest first
COMMON_AT_LEAST = 2000
SQLITE_LOWER = "reviewmon_lower"  # Unicode lower(), which SQLite's own lacks (service/db.py)


def haystack(dialect: str) -> sa.ColumnElement[str]:
    """The title and text as one lower-cased string: PostgreSQL's index is on exactly this
    expression, with its constants written out (a bound '' would not match the index). A
    word holds no space, so no match can straddle the title and the text."""
    lower = getattr(sa.func, SQLITE_LOWER if dialect == "sqlite" else "lower")
    return lower(sa.func.coalesce(Review.title, sa.literal_column("''"))
                 .op("||")(sa.literal_column("' '")).op("||")(Review.text))


def matching(session: Session, query: Any, words: str | None) -> Any:
    """`query` (of reviews, newest first) narrowed to the reviews holding every one of `words`."""
    words_list = (words or "").split()
    if not words_list:
        return query
    dialect = session.get_bind().dialect.name
    indexed = [w for w in words_list if len(w) >= SHORTEST_INDEXED]
    if dialect == "sqlite" and indexed and not _common(session, fts_query := _fts_query(indexed)):
        query = query.where(col(Review.id).in_(_fts_rowids(fts_query)))
        words_list = [w for w in words_list if len(w) < SHORTEST_INDEXED]
    for word in words_list:
        # written into the statement, not bound: the planner must see the pattern to use
        # the trigram index (a prepared statement's generic plan would not)
        pattern = sa.bindparam(None, "%" + _escape(word.lower()) + "%", literal_execute=True)
        if dialect == "sqlite" and word.isascii():  # SQLite's LIKE folds ASCII itself, ten times faster
            query = query.where(sa.or_(col(Review.text).like(pattern, escape="/"),
                                       col(Review.title).like(pattern, escape="/")))
        else:
            query = query.where(haystack(dialect).like(pattern, escape="/"))
    return query


def _common(session: Session, fts_query: str) -> bool:
    """Whether at least COMMON_SHARE of the reviews hold the words (asked of the index,
    which stops counting there)."""
    top = session.scalar(sa.select(sa.func.max(Review.id))) or 0
    enough = max(COMMON_AT_LEAST, int(top * COMMON_SHARE))
    found = _fts_rowids(fts_query).limit(enough).subquery()
    return (session.scalar(sa.select(sa.func.count()).select_from(found)) or 0) >= enough


def _fts_rowids(fts_query: str) -> sa.Select:
    """The ids of the reviews the FTS5 index finds for `fts_query`."""
    return (sa.select(sa.literal_column("rowid")).select_from(sa.table(SQLITE_TABLE))
            .where(sa.literal_column(SQLITE_TABLE).op("MATCH")(fts_query)))


def _fts_query(words: list[str]) -> str:
    """Each word as an FTS5 string (a phrase of its trigrams): no word is read as an operator."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _escape(word: str) -> str:
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_")
