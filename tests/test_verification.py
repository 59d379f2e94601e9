"""Verification that trusts nothing the coordinator asserts (issue 11).

The directories are as protected as the draws (migration 6, `db check` reconciling them with
their history, the log and every draw), a bundle carries and checks what an auditor needs, and
bad bundles get a named refusal. docs/verifying.md and docs/reliability.md §4 list these cases.
"""

from __future__ import annotations

import pytest

from conftest import DBError, copy_store
from test_tamper import SEED, demo_db, drop_triggers, one, problems, restore_triggers, sql, where  # noqa: F401 (fixture)


@pytest.fixture
def demo(demo_db, store_env):
    """A copy of the demo store as this test's store; task 2026-07 (食品销售) not yet drawn."""
    copy_store(demo_db, store_env)
    return store_env


def drawable(db, task_class: str = "C") -> str:
    """A drawable entity in the scope of task 2026-07 (industry 食品销售)."""
    return one(db, "SELECT uscc FROM entity WHERE industry = '食品销售' AND in_directory = 1 "
                   "AND status IN ('存续', '在业') AND risk_class = ? ORDER BY uscc LIMIT 1", (task_class,))[0]


# ---------------------------------------------------------------- the population is as protected as the draw


@pytest.mark.parametrize("statement", [
    "UPDATE entity SET status = '注销' WHERE uscc = '{e}'",
    "DELETE FROM entity WHERE uscc = '{e}'",
    "UPDATE inspector SET status = '离岗' WHERE cert_no = (SELECT MIN(cert_no) FROM inspector)",
    "DELETE FROM conflict WHERE cert_no = (SELECT MIN(cert_no) FROM conflict)",
])
def test_a_direct_edit_of_the_directories_is_refused(demo, cli, statement):
    e = drawable(demo)
    with pytest.raises(DBError, match="change only through shuangsuiji imports"):
        sql(demo, statement.format(e=e))
    assert one(demo, "SELECT status FROM entity WHERE uscc = ?", (e,))[0] in ("存续", "在业")
    assert one(demo, "SELECT COUNT(*) FROM import_permit")[0] == 0
    assert cli("db", "check").code == 0


def test_an_entity_hidden_during_a_draw_and_restored_is_found_by_db_check(demo, cli):
    """The issue's case: one UPDATE before `draws run`, reverted after, triggers put back."""
    e = drawable(demo)
    drop_triggers(demo, "entity")
    sql(demo, "UPDATE entity SET status = '注销' WHERE uscc = ?", params=(e,))
    result = cli("draws", "run", "2026-07", "--seed", SEED, "--json")
    assert result.code == 0, result.err
    draw = result.json()["draw"]
    sql(demo, "UPDATE entity SET status = '存续' WHERE uscc = ?", params=(e,))
    restore_triggers(demo, "entity")
    assert cli("draws", "verify", draw).code == 0  # the draw agrees with itself
    assert cli("audit", "verify").code == 0
    found = problems(cli)
    assert where(found) == {("directories", "entity", e)}
    assert draw in found[0]["message"] and "not so in its frozen population" in found[0]["message"]


def test_an_unreverted_edit_of_a_row_with_history_is_found(demo, cli, tmp_path):
    """After an import changed a row, the row's tracked fields must be its history's last values."""
    e = drawable(demo)
    lines = (tmp_path / "o.csv")
    from conftest import EXAMPLES
    text = (EXAMPLES / "objects.csv").read_text(encoding="utf-8")
    header, *body = text.splitlines()
    cols = header.split(",")
    rows = [r.split(",") for r in body]
    for r in rows:
        if r[cols.index("uscc")] == e:
            r[cols.index("risk_class")] = "B"
    lines.write_text("\n".join([header, *[",".join(r) for r in rows]]) + "\n", encoding="utf-8")
    assert cli("objects", "import", lines).code == 0
    assert cli("db", "check").code == 0
    drop_triggers(demo, "entity")
    sql(demo, "UPDATE entity SET risk_class = 'A' WHERE uscc = ?", params=(e,))
    restore_triggers(demo, "entity")
    found = problems(cli)
    assert ("directories", "entity", e) in where(found)
    assert any("history's last change set it to 'B'" in p["message"] for p in found)


def test_an_officer_hidden_during_the_inspector_draw_is_found(demo, cli):
    result = cli("draws", "run", "2026-07", "--seed", SEED, "--json")
    draw = result.json()["draw"]
    pooled = [c for (c,) in [one(demo, "SELECT MIN(cert_no) FROM inspector WHERE department = 'SCJG' AND in_directory = 1 "
                                       "AND status = '在岗'")]]
    cert = pooled[0]
    drop_triggers(demo, "inspector")
    sql(demo, "UPDATE inspector SET status = '离岗' WHERE cert_no = ?", params=(cert,))
    assert cli("draws", "inspectors", draw).code == 0
    sql(demo, "UPDATE inspector SET status = '在岗' WHERE cert_no = ?", params=(cert,))
    restore_triggers(demo, "inspector")
    found = problems(cli)
    assert ("directories", "inspector", cert) in where(found)


def test_a_left_permit_is_found(demo, cli):
    sql(demo, "INSERT INTO import_permit (id) VALUES (1)")
    assert ("directories", "import_permit", "1") in where(problems(cli))


# ---------------------------------------------------------------- a swapped row is named, never "internal error"


def test_a_team_row_pointing_to_a_swapped_entity_is_named(demo, cli, tmp_path):
    draw = one(demo, "SELECT id FROM draw WHERE state = 'locked' AND id IN (SELECT draw_id FROM draw_team)")[0]
    first = one(demo, "SELECT uscc FROM draw_selection WHERE draw_id = ? ORDER BY stratum, position LIMIT 1", (draw,))[0]
    drop_triggers(demo, "draw_selection")
    sql(demo, "UPDATE draw_selection SET uscc = '91441882MA4UXXXXX1' WHERE draw_id = ? AND uscc = ?", params=(draw, first))
    for args in (("draws", "show", draw), ("draws", "export", draw, "-o", tmp_path / "b.json"), ("draws", "verify", draw)):
        result = cli(*args)
        assert result.code == 3, (args, result.err)
        assert f"draw_team row ({draw}, {first}, 1)" in result.err and "internal error" not in result.err
    assert ("draws", "draw", draw) in where(problems(cli))
