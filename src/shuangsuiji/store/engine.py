"""Opening the store and running transactions.

One engine per process. SQLite gets ``foreign_keys``, ``busy_timeout`` and WAL on every
connection (the settings are per connection); changing commands take the write lock at
the start of their transaction (``BEGIN IMMEDIATE``) so two writers never interleave and
a busy store is reported as such (exit 4) instead of failing half-way.

PostgreSQL (``postgresql://…``, through psycopg 3) gets the same discipline: every write
transaction first takes one transaction-scoped advisory lock of the database
(``pg_advisory_xact_lock``), waiting at most ``SHUANGSUIJI_BUSY_TIMEOUT_MS`` (``lock_timeout``),
so writers are serialised exactly as on SQLite; reads run in one REPEATABLE READ snapshot,
as a SQLite read transaction sees one WAL snapshot, and are never blocked by a writer.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError

from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.store.dialect import is_sqlite, sqlite_path, url_for

DEFAULT_DB = "shuangsuiji.db"


def _busy_timeout_ms(value: str) -> int | None:
    """SHUANGSUIJI_BUSY_TIMEOUT_MS as milliseconds; None (refused when a store is opened) if it is not a number."""
    try:
        return max(0, int(value))
    except ValueError:
        return None


BUSY_TIMEOUT_MS = _busy_timeout_ms(os.environ.get("SHUANGSUIJI_BUSY_TIMEOUT_MS", "5000"))


# Every write transaction on PostgreSQL takes this advisory lock first (the store's "write lock").
# Advisory locks belong to one database, so stores sharing a server do not wait for each other.
PG_WRITE_LOCK = 0x5353_4A5F_5752  # "SSJ_WR"


def shown(db: str) -> str:
    """``--db`` as it may be printed or logged: a URL without its password."""
    if "://" not in db:
        return db
    from sqlalchemy.engine import make_url

    return make_url(db).render_as_string(hide_password=True)


def read_only_sqlite(db: str) -> bool:
    """Whether ``--db`` is an existing SQLite file this process may not write (file mode, folder, mount)."""
    path = sqlite_path(db)
    return path is not None and path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def make_engine(db: str) -> Engine:
    url = url_for(db)
    if BUSY_TIMEOUT_MS is None:
        raise UserError(
            f"SHUANGSUIJI_BUSY_TIMEOUT_MS 须为毫秒数（整数），当前为 {os.environ.get('SHUANGSUIJI_BUSY_TIMEOUT_MS')!r}",
            f"SHUANGSUIJI_BUSY_TIMEOUT_MS must be a whole number of milliseconds, not {os.environ.get('SHUANGSUIJI_BUSY_TIMEOUT_MS')!r}",
            code=ExitCode.USAGE,
        )
    path = sqlite_path(db)
    if path is not None and path.is_dir():
        raise UserError(f"--db {db} 是目录，不是 SQLite 存储文件", f"--db {db} is a directory, not a SQLite store file", code=ExitCode.USAGE)
    if url.startswith("sqlite"):
        if read_only_sqlite(db):
            # Read-only: SQLite opens the file without creating a journal; with the folder
            # read-only too (and no WAL left behind), as immutable, since no -shm can be made.
            immutable = not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists()
            url = f"sqlite:///file:{path}?mode=ro{'&immutable=1' if immutable else ''}&uri=true"
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine, read_only=url.startswith("sqlite:///file:"))
        return engine
    if url.startswith("postgresql+psycopg"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise UserError(
                "PostgreSQL 存储需要 psycopg：pip install 'shuangsuiji[pg]'",
                "A PostgreSQL store needs psycopg: pip install 'shuangsuiji[pg]'",
            ) from None
        engine = create_engine(url, connect_args={"application_name": "shuangsuiji", "client_encoding": "utf8"})
        _configure_postgresql(engine)
        return engine
    return create_engine(url)


def _configure_sqlite(engine: Engine, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not read_only:  # a read-only store keeps the journal mode it has
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        # Temporary tables and the sorts of index builds go to temporary files (the OS caches them),
        # not to this process's memory: building the key index of an 18-million-row first import in
        # memory grew its peak by ~100 MB per million rows (docs/scale.md, "Import at scale").
        cur.execute("PRAGMA temp_store = FILE")
        # 128 MiB of page cache: a million-row import inserts into the key index in random
        # order and would otherwise re-read pages from disk (measured: a quarter of the time).
        cur.execute("PRAGMA cache_size = -131072")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("write_lock"):
            # What BEGIN IMMEDIATE is on SQLite: the first statement waits (at most the busy
            # timeout) until no other writer holds the store, then holds it until COMMIT/ROLLBACK.
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(BUSY_TIMEOUT_MS))}")  # 0 would mean forever
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


class Store:
    """The store behind ``--db``: reading and writing transactions, busy detection."""

    def __init__(self, db: str):
        self.db = db
        self.engine = make_engine(db)
        self.is_sqlite = is_sqlite(self.engine)
        self.read_only = self.is_sqlite and read_only_sqlite(db)
        self.rolled_back = False  # a write transaction was cut short by an error (main: closed stdout)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _busy_as_exit(self.db), self.engine.connect() as conn:
            if not self.is_sqlite:  # one snapshot for the whole read, as in a SQLite read transaction
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self, dry_run: bool = False) -> Iterator[Connection]:
        """One transaction that holds the write lock from its first statement.

        Everything a command changes, and its audit-log entry, happen inside one of
        these: either all of it is committed or none of it. ``dry_run`` runs the very
        same work and rolls it back, so its summary is exactly what a real run would do.
        """
        if self.read_only:
            raise _read_only_error(self.db)
        with _busy_as_exit(self.db), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE", write_lock=True)
            trans = conn.begin()
            try:
                yield conn
            except BaseException:
                trans.rollback()
                self.rolled_back = True
                raise
            if dry_run:
                trans.rollback()
            else:
                trans.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def _read_only_error(db: str) -> UserError:
    return UserError(
        f"存储 {shown(db)} 是只读的（文件、目录或磁盘不可写）：只能运行查看类命令",
        f"The store {shown(db)} is read-only (file, folder or disk not writable): only reading commands can run",
    )


@contextmanager
def _busy_as_exit(db: str = "") -> Iterator[None]:
    """Store errors a user can cause or wait out, as named messages instead of internal errors."""
    try:
        yield
    except DatabaseError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        # PostgreSQL: lock_not_available (lock_timeout), serialization_failure, deadlock_detected.
        pgcode = getattr(exc.orig, "sqlstate", None)
        if "not a database" in text:
            raise UserError(f"{shown(db)} 不是 SQLite 存储（{text}）", f"{shown(db)} is not a SQLite store ({text})") from None
        if not isinstance(exc, OperationalError):
            raise
        if "readonly" in text:
            raise _read_only_error(db) from None
        if "locked" in text or "busy" in text or pgcode in ("55P03", "40001", "40P01"):
            raise UserError(
                "存储正被另一个进程使用（已等待 {:.0f} 秒），请稍后重试。".format(BUSY_TIMEOUT_MS / 1000),
                "The store is busy with another process (waited {:.0f} s); try again later.".format(
                    BUSY_TIMEOUT_MS / 1000
                ),
                code=ExitCode.BUSY,
            ) from exc
        first = text.strip().splitlines()[0] if text.strip() else text
        if "failed to resolve host" in text or "could not translate host name" in text:
            raise UserError(f"数据库服务器的主机名无法解析：{first}", f"The database server's host name cannot be resolved: {first}") from None
        if "unable to open database file" in text:
            raise UserError(f"无法打开存储 {shown(db)}（{text}）", f"Cannot open the store {shown(db)} ({text})") from None
        if text.startswith("connection") and pgcode is None:  # psycopg: the server cannot be reached
            raise UserError(f"无法连接存储：{first}", f"Cannot connect to the store: {first}") from None
        raise
