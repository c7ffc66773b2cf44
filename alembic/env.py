"""Alembic environment: migrations target service.models' metadata.

`reviewmon migrate` hands over its engine in config.attributes["engine"]; the alembic
command line (developers) takes REVIEWMON_DATABASE_URL or the reviewmon config.
"""

from __future__ import annotations

import logging.config
import os

from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alembic import context
from service.db import include_name

config = context.config
target_metadata = SQLModel.metadata


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    if config.config_file_name:
        logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    from service import config as reviewmon_config
    from service.db import make_engine

    url = os.environ.get("REVIEWMON_DATABASE_URL") or reviewmon_config.load().database_url()
    return make_engine(url)


def run_migrations() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it; foreign keys must not object to the
            # moment the old copy is dropped. Must be set outside a transaction.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,  # SQLite alters tables by copying them
            transactional_ddl=True,  # all or nothing, on SQLite (see service/db.py) as on PostgreSQL
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run_migrations()
