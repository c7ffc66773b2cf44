"""Searching reviews by their words (issue 19): the database's own index answers, with
the rule the reviews page has always had (every word, any order, any case, also inside a
longer word), kept in step with new, edited and removed reviews, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from service.desk import queries, search
from service.models import Review, Sentiment
from service.polling import poll as poll_module
from tests.fakeconnector import FakeSource, review

TEXTS = {
    "soup": ("The soup was COLD and the waiter rude.", "Dinner"),
    "colder": ("Colder than the sea in March.", None),
    "percent": ("They charged 100% more, under_score and all.", None),
    "cafe": ("Le CAFÉ était froid.", "Déçu"),
    "quote": ('He said "never again" AND NOT once NEAR(the door).', None),
    "title": ("Nothing to say.", "Awful parking"),
}


@pytest.fixture
def shop(make_context, fake_type):
    FakeSource("shop").page(*(review(key, text, 5, title=title) for key, (text, title) in TEXTS.items()))
    ctx = make_context([{"name": "shop", "type": "fake", "script": "shop"}])
    asyncio.run(poll_module.poll(ctx))
    return ctx


def found(ctx, words: str) -> set[str]:
    with ctx.session() as session:
        return {row["external_id"] for row in queries.review_rows(session, search=words)}


def test_every_word_anywhere_in_title_or_text_in_any_case(shop) -> None:
    assert found(shop, "cold") == {"soup", "colder"}  # inside a longer word too
    assert found(shop, "cold SOUP") == {"soup"}  # every word, any order
    assert found(shop, "soup cold waiter") == {"soup"}
    assert found(shop, "café") == {"cafe"} and found(shop, "CAFÉ froid") == {"cafe"}
    assert found(shop, "parking awful") == {"title"}  # the title counts
    assert found(shop, "dinner rude") == {"soup"}  # one word in the title, one in the text
    assert found(shop, "nowhere-to-be-found") == set()


def test_characters_of_the_query_languages_are_plain_characters(shop) -> None:
    assert found(shop, "100%") == {"percent"} and found(shop, "under_score") == {"percent"}
    assert found(shop, "%") == {"percent"} and found(shop, "_") == {"percent"}
    assert found(shop, '"never') == {"quote"}  # a quote of FTS5's query language
    assert found(shop, "AND NOT") == {"quote"} and found(shop, "NEAR(the") == {"quote"}
    assert found(shop, "OR") == {"percent", "quote"}  # a two-letter word ("more", "door"), read row by row
    assert found(shop, "*") == set()


def test_the_index_follows_new_edited_and_deleted_reviews(shop, fake_type) -> None:
    FakeSource("shop").page(review("soup", "The chowder was lovely after all.", 4),
                            review("new", "Fresh oysters, cold beer.", 5))
    asyncio.run(poll_module.poll(shop))
    assert found(shop, "chowder") == {"soup"} and found(shop, "rude") == set()  # edited: new words only
    assert found(shop, "oysters") == {"new"}
    with shop.session() as session:  # as `reviewmon sources purge` will
        gone = session.exec(select(Review.id).where(col(Review.external_id) == "colder")).one()
        session.exec(sa.delete(Sentiment).where(col(Sentiment.review_id) == gone))
        session.exec(sa.delete(Review).where(col(Review.id) == gone))
        session.commit()
    assert found(shop, "cold") == {"new"}


def test_words_many_reviews_hold_are_found_the_same_way(shop, monkeypatch) -> None:
    """A common word is read newest first, row by row (on SQLite, once the index says it
    is common): the same reviews, in any case, as the index would give."""
    rare = {words: found(shop, words) for words in ("cold", "CAFÉ froid", "café", "100%", "parking awful", "or")}
    monkeypatch.setattr(search, "COMMON_AT_LEAST", 1)
    assert {words: found(shop, words) for words in rare} == rare


def test_a_search_reads_the_index_not_every_review(shop) -> None:
    with shop.session() as session:
        query = search.matching(session, select(Review.id), "soup waiter")
    with shop.engine.connect() as connection:
        statement = str(query.compile(shop.engine, compile_kwargs={"literal_binds": True}))
        if shop.engine.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}"))
            assert "VIRTUAL TABLE INDEX" in plan and not re.search(r"SCAN reviews(?!_search)", plan), plan
        else:  # few rows are scanned whatever the indexes: check the index is the query's expression
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}"))
            assert "ix_reviews_search_trgm" in plan, plan


def test_purging_a_removed_source_deletes_it_whole_and_keeps_the_rest(make_context, fake_type) -> None:
    """On SQLite and PostgreSQL alike (foreign keys hold): reviews, revisions, drafts, their
    history, runs and trend rows go; the other source and its search index stay."""
    from service.desk import purge
    from service.errors import ReviewmonError
    from service.trends import reports

    FakeSource("old").page(review("x1", "Cold soup, rude staff.", 1), review("x2", "Dreadful wait.", 2))
    FakeSource("new").page(review("n1", "Cold beer, warm welcome.", 5))
    sources = [{"name": "old", "type": "fake", "script": "old"}, {"name": "new", "type": "fake", "script": "new"}]
    ctx = make_context(sources)
    asyncio.run(poll_module.poll(ctx))
    FakeSource("old").page(review("x1", "Cold soup, rude staff, and no apology.", 1))  # a revision
    asyncio.run(poll_module.poll(ctx))
    ctx = make_context(sources[1:])
    with ctx.session() as session:
        with pytest.raises(ReviewmonError, match="still in the config"):
            purge.what_purge_deletes(session, ctx.config, "new")
        assert purge.what_purge_deletes(session, ctx.config, "old").drafts == 2
    with ctx.session(write=True) as session:
        done = purge.purge_source(session, ctx.config, "old")
    assert (done.reviews, done.drafts, done.runs) == (2, 2, 2)
    assert found(ctx, "cold") == {"n1"}
    with ctx.session() as session:
        assert queries.stored_source_names(session) == ["new"]
        assert [d["review_id"] for d in queries.draft_rows(session)] == []
        today = datetime.now(timezone.utc).date()
        report = reports.report(session, start=today - timedelta(days=30), end=today)
        assert [group.name for group in report.by_source] == ["new"]
