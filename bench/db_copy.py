"""How long does `reviewmon db copy` take for a million reviews, SQLite to PostgreSQL?
(issue 20)

Builds the synthetic million reviews of bench/dashboard.py (reviews, sentiments, drafts
in every status) in SQLite, or reuses --db, then runs service.db_copy.copy_database into
a new schema of the PostgreSQL at --postgres-url (default REVIEWMON_TEST_POSTGRES_URL),
dropped afterwards. The time includes migrating the target, copying every table in
batches, moving the sequences and reading every table back to compare its checksum.

    .venv/bin/python bench/db_copy.py                       # 1,000,000 reviews
    .venv/bin/python bench/db_copy.py --reviews 100000 --db /tmp/copy.db
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from dashboard import build  # noqa: E402

from service import db, db_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="build the SQLite database here, or reuse it if it exists")
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEWMON_TEST_POSTGRES_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("give --postgres-url or set REVIEWMON_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "copy.db"
        if not path.exists():
            build(path, args.reviews, end=datetime.now(timezone.utc).date() - timedelta(days=1))
        schema = f"bench_copy_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres_url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        source = db.make_engine(f"sqlite:///{path}")
        db.migrate(source)  # a database built by an older checkout: to this schema first
        target = db.make_engine(sa.make_url(args.postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
                                .render_as_string(hide_password=False))
        try:
            started = time.perf_counter()
            copied = db_copy.copy_database(source, target)
            seconds = time.perf_counter() - started
        finally:
            source.dispose()
            target.dispose()
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    rows = {table.name: table.rows for table in copied if table.rows}
    if args.json:
        print(json.dumps({"seconds": round(seconds, 1), "rows": rows}))
        return
    print(f"# db copy, SQLite to PostgreSQL, {time.strftime('%Y-%m-%d')}: {seconds:.0f} s, verified")
    for name, count in rows.items():
        print(f"{name:24} {count:>12,} rows")


if __name__ == "__main__":
    main()
