"""The store: migrations applied once, busy stores, uninitialised stores (the schema itself: test_schema.py)."""

import time

from conftest import EXAMPLES, ON_PG, WriteLock, connect, sqlite_only


def test_init_twice_changes_nothing(cli, store_env):
    first = cli("init", "--json").json()
    second = cli("init", "--json").json()
    assert first["applied"] == [1, 2, 3, 4, 5, 6, 7] and second["applied"] == []
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 1
        if not ON_PG:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_commands_refuse_a_store_that_was_not_initialised(cli, store_env):
    result = cli("objects", "list")
    assert result.code == 1
    assert "shuangsuiji init" in result.err
    if not ON_PG:
        assert not store_env.exists()  # a mistyped --db does not leave an empty store behind


def test_busy_store_exits_4(store, store_env, monkeypatch):
    import shuangsuiji.store.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    holder = WriteLock(store_env)  # another writer, in the middle of its transaction
    try:
        started = time.monotonic()
        result = store("objects", "import", EXAMPLES / "objects.csv")
        assert result.code == 4
        assert "busy" in result.err
        assert time.monotonic() - started < 5
    finally:
        holder.release()


@sqlite_only("SQLite drops a table's indexes before a first load and builds them again after it")
def test_a_first_import_builds_every_index_of_the_table_again(cli, store_env):
    assert cli("init").code == 0

    def indexes():
        with connect(store_env) as conn:
            return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entity' "
                                     "AND sql IS NOT NULL").fetchall())

    migrated = indexes()
    assert {"ux_entity_uscc", "ix_entity_drawable"} <= set(migrated)
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    assert cli("objects", "import", EXAMPLES / "objects.csv").code == 0
    assert indexes() == migrated
