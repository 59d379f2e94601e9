"""store/dialect.py says the same thing on the backend under test: each helper's SQL run on a real
store, and the import's NULL-aware change detection end to end (a class set or cleared is a change)."""

from sqlalchemy import create_engine

from conftest import EXAMPLES, rows
from shuangsuiji.store import dialect


def test_each_helper_means_the_same_on_this_backend(cli, store_env):
    assert cli("init").code == 0
    engine = create_engine(dialect.url_for(str(store_env)))
    try:
        with engine.connect() as conn:
            assert dialect.backend(conn) in ("sqlite", "postgresql")
            assert dialect.is_sqlite(conn) != dialect.is_postgresql(conn)
            differs = [conn.exec_driver_sql(f"SELECT CASE WHEN {dialect.is_distinct(conn, a, b)} THEN 1 ELSE 0 END").scalar()
                       for a, b in (("NULL", "'A'"), ("'A'", "NULL"), ("NULL", "NULL"), ("'A'", "'A'"), ("'A'", "'B'"))]
            assert differs == [1, 1, 0, 0, 1]
            joined = conn.exec_driver_sql(
                f"SELECT {dialect.lines_agg(conn, 'v')} FROM (SELECT 'b' AS v UNION ALL SELECT 'a' UNION ALL SELECT 'c' ORDER BY v) AS s"
            ).scalar()
            assert joined == "a\nb\nc"
            marks = dialect.placeholders(conn, 2)
            assert conn.exec_driver_sql(f"SELECT {marks.split(', ')[0]} || {marks.split(', ')[1]}", ("x", "y")).scalar() == "xy"
            assert conn.exec_driver_sql(f"SELECT COUNT(*) FROM entity{dialect.table_scan(conn)} WHERE uscc > ''").scalar() == 0
    finally:
        engine.dispose()


def test_a_risk_class_set_or_cleared_on_re_import_is_a_change(store, store_env, tmp_path):
    """第四条/第五条: NULL is a value to the import's comparison (IS NOT / IS DISTINCT FROM, never !=)."""
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8").splitlines()
    code = lines[1].split(",")[0]
    fields = lines[1].split(",")
    for risk, want in (("", None), ("B", "B")):
        changed = tmp_path / f"objects-{risk or 'none'}.csv"
        row = ",".join(fields[:7] + [risk] + fields[8:])
        changed.write_text("\n".join([lines[0], row, *lines[2:]]) + "\n", encoding="utf-8")
        result = store("objects", "import", changed, "--json").json()
        assert (result["updated"], result["unchanged"]) == (1, len(lines) - 2), risk
        assert rows(store_env, "SELECT risk_class FROM entity WHERE uscc = ?", (code,)) == [(want,)]
    history = rows(store_env, "SELECT old_value, new_value FROM entity_history WHERE uscc = ? AND field = 'risk_class' "
                              "ORDER BY id", (code,))
    assert history == [(fields[7], None), (None, "B")]
