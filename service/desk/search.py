"""Finding reviews by the words they hold, with the database's own index.

The rule is the one the reviews page, its CSV export and `reviewmon reviews list
--search` have always had: every word of the search must be somewhere in the review's
title or text, in any order and any case, also inside a longer word ("cold" finds
"colder"; % and _ are plain characters). Walking a million reviews for a word none of
them holds took 3 s (bench/search.py); the indexes answer from the words' trigrams:

- SQLite: the FTS5 table `reviews_search` (trigram tokenizer, case-folded), kept in step
  with `reviews` by triggers (alembic/versions/*_0010_review_search.py);
- PostgreSQL: a pg_trgm GIN index on the lower-cased title and text, which LIKE uses.

A trigram index cannot look up a word shorter than three characters: such a word is
matched by reading the rows the longer words left (or every row, if all are short).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from service.models import Review

SHORTEST_INDEXED = 3  # a trigram index knows words of three characters and more
SQLITE_TABLE = "reviews_search"


def haystack() -> sa.ColumnElement[str]:
    """The title and text as one lower-cased string: PostgreSQL's index is on exactly this
    expression, with its constants written out (a bound '' would not match the index). A
    word holds no space, so no match can straddle the title and the text."""
    return sa.func.lower(sa.func.coalesce(Review.title, sa.literal_column("''"))
                         .op("||")(sa.literal_column("' '")).op("||")(Review.text))


def matching(query: Any, words: str | None, dialect: str) -> Any:
    """`query` narrowed to the reviews holding every one of `words`."""
    words_list = (words or "").split()
    if not words_list:
        return query
    if dialect == "sqlite":
        indexed = [w for w in words_list if len(w) >= SHORTEST_INDEXED]
        if indexed:
            found = (sa.select(sa.literal_column("rowid")).select_from(sa.table(SQLITE_TABLE))
                     .where(sa.literal_column(SQLITE_TABLE).op("MATCH")(_fts_query(indexed))))
            query = query.where(col(Review.id).in_(found))
        for word in words_list:
            if len(word) < SHORTEST_INDEXED:
                query = query.where(or_contains(word))
        return query
    for word in words_list:
        # written into the statement, not bound: the planner must see the pattern to use
        # the trigram index (a prepared statement's generic plan would not)
        pattern = sa.bindparam(None, "%" + _escape(word.lower()) + "%", literal_execute=True)
        query = query.where(haystack().like(pattern, escape="/"))
    return query


def or_contains(word: str) -> sa.ColumnElement[bool]:
    """The old reading, row by row: for words too short for the index."""
    return sa.or_(col(Review.text).icontains(word, autoescape=True), col(Review.title).icontains(word, autoescape=True))


def _fts_query(words: list[str]) -> str:
    """Each word as an FTS5 string (a phrase of its trigrams): no word is read as an operator."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _escape(word: str) -> str:
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_")
