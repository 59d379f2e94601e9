"""What only a PostgreSQL store has: its URL, the database it insists on, refusals an owner could
switch off (and `db check` noticing), TRUNCATE. The rest of the suite runs on PostgreSQL as a whole
(`SHUANGSUIJI_TEST_PG`, see conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from conftest import ON_PG, PG_SERVER, DBError, connect, create_database
from shuangsuiji.store.engine import shown, url_for

pg_only = pytest.mark.skipif(not ON_PG, reason="PostgreSQL only: set SHUANGSUIJI_TEST_PG")


def test_urls_and_what_is_shown_of_them():
    assert url_for("postgresql://ssj@db.example/shuangsuiji") == "postgresql+psycopg://ssj@db.example/shuangsuiji"
    assert url_for("postgres://ssj@db.example/s") == "postgresql+psycopg://ssj@db.example/s"
    assert url_for("postgresql+psycopg://ssj@db.example/s") == "postgresql+psycopg://ssj@db.example/s"
    assert url_for("store.db").startswith("sqlite:///") and url_for("store.db").endswith("/store.db")
    assert shown("postgresql://chen:secret@db.example/s") == "postgresql://chen:***@db.example/s"
    assert shown("store.db") == "store.db"


@pg_only
def test_the_password_is_never_printed(cli, store_env):
    with_password = make_url(store_env).set(password="not-checked-by-trust-auth").render_as_string(hide_password=False)
    result = cli("--db", with_password, "init", "--json")
    assert result.code == 0, result.err
    assert "not-checked" not in result.out + result.err and result.json()["db"].endswith(":***@" + with_password.split("@", 1)[1])


@pg_only
def test_init_refuses_a_database_that_does_not_sort_as_sqlite_does(cli, monkeypatch):
    url = create_database()
    with connect(PG_SERVER) as admin:
        name = make_url(url).database
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'")
    result = cli("--db", url, "init")
    assert result.code == 1
    assert "encoding SQL_ASCII" in result.err and "LC_COLLATE 'C'" in result.err and "docs/operations.md" in result.err


@pg_only
def test_truncate_is_refused_like_delete(store, store_env):
    with connect(store_env) as conn:
        for table, message in (("audit_log", "append-only"), ("draw_selection", "frozen")):
            with pytest.raises(DBError, match=message):
                conn.execute(f"TRUNCATE {table} CASCADE")


@pg_only
def test_a_disabled_trigger_or_an_altered_function_is_found_by_db_check(store, store_env):
    assert store("db", "check").code == 0
    with connect(store_env) as conn:  # what the tables' owner could do
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    found = store("db", "check", "--json").json()["problems"]
    assert [(p["check"], p["table"], p["row"]) for p in found] == [("triggers", "audit_log", "audit_log_no_update")]
    assert "disabled" in found[0]["message"]
    with connect(store_env) as conn:
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
        conn.execute("CREATE OR REPLACE FUNCTION shuangsuiji_refuse_change() RETURNS trigger AS $$ "
                     "BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql")
    found = store("db", "check", "--json").json()["problems"]
    assert [(p["check"], p["row"]) for p in found] == [("triggers", "shuangsuiji_refuse_change()")]


def test_a_server_that_cannot_be_reached_is_one_clear_line(cli):
    result = cli("--db", "postgresql://nobody@127.0.0.1:1/shuangsuiji", "objects", "list")
    assert result.code == 1
    assert result.err.startswith("error: Cannot connect to the store: connection failed") and "Traceback" not in result.err
