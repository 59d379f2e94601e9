"""The Python API (shuangsuiji.api.Store) on a real store of either backend: typed rows that say what
the commands say, writes that leave the same audit log, bad input refused with nothing written,
and docs/python-api.md's example run as written."""

import os
import re
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ON_PG, ROOT, connect
from shuangsuiji import Store
from shuangsuiji.errors import UserError
from shuangsuiji.store.models import AuditLog, Draw, DrawSelection, Entity, Inspector, Task

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
TASK_FILE = EXAMPLES / "task-2026-canteens-adhoc.yaml"
SEED = "31415926535897932384"


@pytest.fixture
def api(store_env):
    with Store.open(store_env, operator="陈晓莹") as store:
        yield store


def drawn(store: Store) -> Draw:
    store.init()
    store.import_departments(EXAMPLES / "departments.yaml")
    store.import_entities(EXAMPLES / "objects.csv")
    store.import_officers(EXAMPLES / "inspectors.csv")
    store.import_conflicts(EXAMPLES / "conflicts.csv")
    store.import_checklist(CHECKLIST)
    task = store.create_task(TASK_FILE)
    draw = store.run_draw(task.id, seed=SEED)
    store.assign_inspectors(draw.id)
    return draw


def test_the_cycle_through_the_api_is_what_the_commands_record_and_show(api, cli):
    draw = drawn(api)
    assert isinstance(draw, Draw) and (draw.id, draw.state, draw.task_id) == ("2026-L01-D1", "locked", "2026-L01")
    assert draw.seed is not None and draw.locked_at is not None

    # The audit log holds what the commands would have written, by this operator, and verifies.
    with connect(api.db) as conn:
        log = conn.execute("SELECT command, operator FROM audit_log ORDER BY seq").fetchall()
    assert [c for c, _ in log] == ["init", "departments import", "objects import", "inspectors import", "conflicts import",
                                   "checklists import", "tasks create", "draws run", "draws inspectors"]
    assert {o for _, o in log} == {"陈晓莹"}
    assert cli("audit", "verify").code == 0
    head = api.audit_head()
    assert isinstance(head, AuditLog) and head.seq == 9 and head.command == "draws inspectors"
    assert head.hash == cli("audit", "head", "--json").json()["hash"]

    # Typed reads agree with the commands' JSON.
    tasks = api.tasks()
    assert [type(t) for t in tasks] == [Task] and [t.id for t in tasks] == [t["id"] for t in cli("tasks", "list", "--json").json()]
    assert api.tasks(year=2025) == []
    assert api.task("2026-L01").name == cli("tasks", "show", "2026-L01", "--json").json()["name"]
    assert [d.id for d in api.draws()] == [d["id"] for d in cli("draws", "list", "--json").json()] == [draw.id]
    assert api.draws("other-task") == []
    shown = cli("draws", "show", draw.id, "--json").json()
    selection = api.selection(draw.id)
    assert selection and all(isinstance(s, DrawSelection) for s in selection)
    assert [(s.uscc, s.stratum, s.position, s.ticket) for s in selection] == \
        [(s["uscc"], s["stratum"], s["position"], s["ticket"]) for s in shown["selected"]]
    first = api.entity(selection[0].uscc.lower())  # codes are forgiven their case, as on the command line
    assert isinstance(first, Entity) and first.name == cli("objects", "show", selection[0].uscc, "--json").json()["name"]


def test_entities_stream_with_filters_as_objects_list_does(api, cli):
    drawn(api)
    for filters, args in (({"risk_class": "D"}, ["--risk-class", "D"]),
                          ({"status": ["存续", "在业"], "region": "连州镇"}, ["--status", "存续", "--status", "在业", "--region", "连州镇"]),
                          ({"include_removed": True}, ["--include-removed"])):
        streamed = api.entities(**filters)
        assert not isinstance(streamed, list)  # an iterator: a province's directory is never all in memory
        rows = list(streamed)
        assert all(isinstance(e, Entity) for e in rows)
        assert [e.uscc for e in rows] == [e["uscc"] for e in cli("objects", "list", *args, "--limit", "0", "--json").json()]
    officers = api.officers("scjg")
    assert officers and all(isinstance(o, Inspector) and o.department == "SCJG" for o in officers)
    assert len(api.officers()) == len(cli("inspectors", "list", "--json").json())


def test_a_bad_file_is_refused_naming_the_row_and_nothing_is_written(api, tmp_path):
    api.init()
    api.import_departments(EXAMPLES / "departments.yaml")
    head = api.audit_head()
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "objects.csv"
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace(lines[2].split(",")[0], "NOT-A-CODE", 1)]) + "\n",
                   encoding="utf-8")
    with pytest.raises(UserError) as refused:
        api.import_entities(bad)
    assert "objects.csv" in str(refused.value) and "nothing was written" in str(refused.value)
    [problem] = refused.value.problems
    assert (problem.file.endswith("objects.csv"), problem.row, problem.value) == (True, 3, "NOT-A-CODE"), problem
    assert list(api.entities(include_removed=True)) == []
    assert api.audit_head() == head


def test_missing_rows_and_an_uninitialised_store_are_named_errors(api):
    with pytest.raises(UserError, match="init"):
        api.tasks()
    if not ON_PG:
        assert not os.path.exists(api.db)  # a mistyped path leaves no empty store behind
    with pytest.raises(UserError, match="init"):
        api.import_departments(EXAMPLES / "departments.yaml")
    assert api.init() == [1, 2, 3, 4, 5, 6, 7]
    with connect(api.db) as conn:  # as if an older program had created it
        conn.execute("DELETE FROM schema_migrations WHERE version = 7")
        with pytest.raises(UserError, match="out of date"):
            api.tasks()
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'back', 'now')")
    for read, name in ((lambda: api.task("nope"), "No task nope"), (lambda: api.draw("nope-D1"), "No draw nope-D1"),
                       (lambda: api.selection("nope-D1"), "No draw nope-D1"),
                       (lambda: api.entity("91441882MA4UX0000X"), "No entity")):
        with pytest.raises(UserError, match=name):
            read()
    with pytest.raises(UserError, match="either file"):
        api.create_task()


def test_a_second_draw_is_refused_and_the_locked_draw_does_not_change(api):
    draw = drawn(api)
    with pytest.raises(UserError) as refused:
        api.run_draw(draw.task_id, seed="27182818284590452353")
    assert refused.value.code == 5  # already done: do not retry
    again = api.draw(draw.id)
    assert (again.seed, again.locked_at, again.population_sha256) == (draw.seed, draw.locked_at, draw.population_sha256)


def test_the_documented_example_runs_as_written(store_env):
    """docs/python-api.md's example, run from the repository as a reader would, against this test's store."""
    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "SHUANGSUIJI_DB": str(store_env)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "400 entities"
    assert out[1].startswith("2026-L01-D1 locked: task 2026-L01 ")
    assert re.fullmatch(r"\d+ live class-D entities; \d+ SCJG officers", out[-2])
    assert re.fullmatch(r"audit head 9 [0-9a-f]{64}", out[-1])
