"""Opening the store and running transactions.

One engine per process. SQLite gets ``foreign_keys``, ``busy_timeout`` and WAL on every
connection (the settings are per connection); changing commands take the write lock at
the start of their transaction (``BEGIN IMMEDIATE``) so two writers never interleave and
a busy store is reported as such (exit 4) instead of failing half-way.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from shuangsuiji.errors import ExitCode, UserError

DEFAULT_DB = "shuangsuiji.db"
BUSY_TIMEOUT_MS = int(os.environ.get("SHUANGSUIJI_BUSY_TIMEOUT_MS", "5000"))


def url_for(db: str) -> str:
    """A SQLAlchemy URL for ``--db``: a URL as given, anything else is a SQLite file path."""
    if "://" in db:
        return db
    return "sqlite:///" + str(Path(db).expanduser().resolve())


def sqlite_path(db: str) -> Path | None:
    return None if "://" in db else Path(db).expanduser().resolve()


def make_engine(db: str) -> Engine:
    url = url_for(db)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(url)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA temp_store = MEMORY")
        # 128 MiB of page cache: a million-row import inserts into the key index in random
        # order and would otherwise re-read pages from disk (measured: a quarter of the time).
        cur.execute("PRAGMA cache_size = -131072")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """The store behind ``--db``: reading and writing transactions, busy detection."""

    def __init__(self, db: str):
        self.db = db
        self.engine = make_engine(db)
        self.is_sqlite = self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _busy_as_exit(), self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def write(self, dry_run: bool = False) -> Iterator[Connection]:
        """One transaction that holds the write lock from its first statement.

        Everything a command changes, and its audit-log entry, happen inside one of
        these: either all of it is committed or none of it. ``dry_run`` runs the very
        same work and rolls it back, so its summary is exactly what a real run would do.
        """
        with _busy_as_exit(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            trans = conn.begin()
            try:
                yield conn
            except BaseException:
                trans.rollback()
                raise
            if dry_run:
                trans.rollback()
            else:
                trans.commit()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _busy_as_exit() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in text or "busy" in text:
            raise UserError(
                "存储正被另一个进程使用（已等待 {:.0f} 秒），请稍后重试。".format(BUSY_TIMEOUT_MS / 1000),
                "The store is busy with another process (waited {:.0f} s); try again later.".format(
                    BUSY_TIMEOUT_MS / 1000
                ),
                code=ExitCode.BUSY,
            ) from exc
        raise
