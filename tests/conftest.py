"""Every test gets its own store, English messages and a fixed operator.

The store is a SQLite file under tmp_path; with ``SHUANGSUIJI_TEST_PG`` set to a PostgreSQL
server URL (``postgresql://pg@127.0.0.1:54329/postgres``, as `.ci/run` does) it is a fresh
database on that server instead, dropped after the test, and the whole suite runs against
PostgreSQL. Tests reach the store behind the tool's back through ``connect``/``rows`` (an
administrator's own SQL session), which work on both; the few tests that are about SQLite
itself are marked ``sqlite_only`` with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

# Before shuangsuiji is imported: the interface language is fixed at import (help texts).
os.environ["SHUANGSUIJI_LANG"] = "en"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "lianzhou"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


PG_SERVER = os.environ.get("SHUANGSUIJI_TEST_PG") or None
BACKEND = "postgresql" if PG_SERVER else "sqlite"
ON_PG = PG_SERVER is not None


def sqlite_only(reason: str):
    """Skip on PostgreSQL a test that is about SQLite itself, saying why."""
    return pytest.mark.skipif(ON_PG, reason=f"SQLite only: {reason}")


# ---------------------------------------------------------------- a store per test, on either backend

_admin = None


def _admin_engine():
    global _admin
    if _admin is None:
        from shuangsuiji.store.engine import url_for

        _admin = create_engine(url_for(PG_SERVER), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    return _admin


def new_store(tmp_path: Path, name: str = "store") -> str | Path:
    """A location for a new, empty store: a file under tmp_path, or a new database on the test server."""
    if not ON_PG:
        return tmp_path / f"{name}.db"
    return create_database()


def create_database(template: str | None = None) -> str:
    """A new PostgreSQL database (empty, or a copy of ``template``'s database); its URL."""
    db = f"t_{uuid.uuid4().hex[:20]}"
    source = make_url(template).database if template else "template0"
    if template:
        drop_connections(template)
    with _admin_engine().connect() as conn:
        # C collation: text sorts by code point, exactly as in SQLite (the tool insists on it).
        conn.exec_driver_sql(f"CREATE DATABASE {db} TEMPLATE {source} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    _created.append(db)
    return make_url(PG_SERVER).set(drivername="postgresql", database=db).render_as_string(hide_password=False)


def drop_connections(url: str) -> None:
    """End every session on ``url``'s database (a template must have none)."""
    from shuangsuiji.cli import context

    context.reset_store()
    with _admin_engine().connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (make_url(url).database,),
        )


_created: list[str] = []


def _drop_created() -> None:
    from shuangsuiji.cli import context

    context.reset_store()
    with _admin_engine().connect() as conn:
        while _created:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_created.pop()} WITH (FORCE)")


def copy_store(source, dest) -> None:
    """Make the store at ``dest`` a copy of the store at ``source`` (which no process is using):
    a file copy, or ``dest``'s database re-created from ``source``'s as its template."""
    if not ON_PG:
        import shutil

        shutil.copyfile(source, dest)
        return
    drop_connections(str(source))
    name = make_url(str(dest)).database
    with _admin_engine().connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {make_url(str(source)).database}")
    if name not in _created:
        _created.append(name)


class WriteLock:
    """The store's write lock held by this process, as a writing command holds it (SQLite's
    BEGIN IMMEDIATE; PostgreSQL's advisory lock), until ``release``. ``execute`` writes inside it."""

    def __init__(self, db):
        if ON_PG:
            import psycopg

            from shuangsuiji.store.engine import PG_WRITE_LOCK

            self.conn = psycopg.connect(make_url(str(db)).render_as_string(hide_password=False))
            self.conn.execute(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
        else:
            import sqlite3

            self.conn = sqlite3.connect(db, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def release(self) -> None:
        if self.conn is not None:
            self.conn.rollback() if ON_PG else self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


@pytest.fixture(autouse=True)
def store_env(tmp_path, monkeypatch):
    mark = len(_created)  # databases made after this are this test's (module fixtures' come before)
    db = new_store(tmp_path)
    monkeypatch.setenv("SHUANGSUIJI_DB", str(db))
    monkeypatch.setenv("SHUANGSUIJI_OPERATOR", "tester")
    monkeypatch.setenv("SHUANGSUIJI_LANG", "en")
    from shuangsuiji import i18n

    i18n.set_lang("en")
    yield db
    if ON_PG:
        from shuangsuiji.cli import context

        context.reset_store()
        with _admin_engine().connect() as conn:
            for name in _created[mark:]:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        del _created[mark:]


def pytest_sessionfinish(session, exitstatus):
    if ON_PG and _created:
        _drop_created()


# ---------------------------------------------------------------- SQL behind the tool's back


DBError = DBAPIError  # what a refused statement raises (the store's triggers), on either backend


class _Result:
    def __init__(self, result):
        self._result = result

    def fetchone(self):
        row = self._result.fetchone() if self._result.returns_rows else None
        return tuple(row) if row is not None else None

    def fetchall(self):
        return [tuple(r) for r in self._result] if self._result.returns_rows else []

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self):
        return self._result.rowcount


class Direct:
    """An administrator's own SQL session on a store, outside the tool: each statement commits
    on its own, none of the tool's locks, and on SQLite no foreign keys (a bare sqlite3 session's
    default). ``?`` placeholders on both backends."""

    def __init__(self, db):
        from shuangsuiji.store.engine import url_for

        self.engine = create_engine(url_for(str(db)), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.conn = self.engine.connect()
        self.pg = self.engine.dialect.name == "postgresql"

    def execute(self, sql: str, params=()) -> _Result:
        if not params:  # sent as written: no placeholders, '%' is '%'
            return _Result(self.conn.exec_driver_sql(sql, execution_options={"no_parameters": True}))
        if self.pg:
            sql = sql.replace("%", "%%").replace("?", "%s")
        return _Result(self.conn.exec_driver_sql(sql, tuple(params)))

    def executemany(self, sql: str, seq) -> None:
        if self.pg:
            sql = sql.replace("%", "%%").replace("?", "%s")
        self.conn.exec_driver_sql(sql, [tuple(p) for p in seq])

    def drop_trigger(self, name: str, table: str) -> None:
        """What a determined administrator could do: remove one of the store's refusals."""
        self.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if self.pg else ""))

    def commit(self) -> None:  # each statement is already committed
        pass

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def connect(db) -> Direct:
    return Direct(db)


def rows(db, sql: str, params=()) -> list[tuple]:
    """All rows of one query, through a session of its own."""
    with connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def cli(capsys):
    """Run one command line in this process; returns exit code, stdout and stderr apart."""
    from shuangsuiji.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(int(code), captured.out, captured.err)

    return run


@pytest.fixture
def store(cli):
    """An initialised store with the example departments, directory, officers and conflicts."""
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    assert cli("objects", "import", EXAMPLES / "objects.csv").code == 0
    assert cli("inspectors", "import", EXAMPLES / "inspectors.csv").code == 0
    assert cli("conflicts", "import", EXAMPLES / "conflicts.csv").code == 0
    return cli


def run_process(*args: str, env: dict | None = None, cwd: Path | None = None, stdin: str | None = None) -> Result:
    """Run the real console entry point in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "shuangsuiji", *[str(a) for a in args]],
        capture_output=True, text=True, env=full_env, cwd=cwd, input=stdin, timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
