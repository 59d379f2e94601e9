"""Bad input, systematically: random and mutated files for every importer and for `verify`.

Whatever the file, a command ends with a documented exit code (0 done; 1 bad input; 2 usage;
3 a check found problems) and a message — never a traceback or an "internal error" — and when
it does not succeed, nothing was written: every table's content and the audit log are exactly
as before. A bundle given to `verify` that was changed where it matters always fails (3).

Commands run in this process (the `cli` fixture) for speed. SHUANGSUIJI_FUZZ_EXAMPLES scales
the number of examples per test (default 25); SHUANGSUIJI_FUZZ_RANDOM=1 draws new ones each run.
"""

from __future__ import annotations

import copy
import csv
import datetime
import hashlib
import io
import json
import os
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import EXAMPLES, ON_PG, ROOT, connect, copy_store, create_database

EXAMPLES_N = int(os.environ.get("SHUANGSUIJI_FUZZ_EXAMPLES", "25"))
# Derandomized (the same examples on every run, so CI is stable) unless SHUANGSUIJI_FUZZ_RANDOM=1 (exploring).
FUZZ = settings(max_examples=EXAMPLES_N, deadline=None, derandomize=os.environ.get("SHUANGSUIJI_FUZZ_RANDOM") != "1",
                database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
SEED = "31415926535897932384626433"
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "latin-1"]


# ---------------------------------------------------------------- the store under test


class _Cli:
    """Commands in this process against one store (to build the module's starting store)."""

    def __init__(self, db: Path):
        self.db = db

    def __call__(self, *args):
        from shuangsuiji.cli.main import main

        code = main(["--db", str(self.db), "--operator", "tester", *[str(a) for a in args]])

        class R:
            pass

        r = R()
        r.code, r.err, r.out = int(code), "", ""
        return r


@pytest.fixture(scope="module")
def fuzz_template(tmp_path_factory):
    """Directories, checklist, published plan, a joint task drawn with officers, its results template filled."""
    from test_results import DRAW, fill, make_joint_draw

    work = tmp_path_factory.mktemp("fuzz")
    db = create_database() if ON_PG else work / "template.db"
    run = _Cli(db)
    for args in (("init",), ("departments", "import", EXAMPLES / "departments.yaml"),
                 ("objects", "import", EXAMPLES / "objects.csv"), ("inspectors", "import", EXAMPLES / "inspectors.csv"),
                 ("conflicts", "import", EXAMPLES / "conflicts.csv"), ("checklists", "import", CHECKLIST),
                 ("plans", "import", EXAMPLES / "plan-2026.yaml"), ("plans", "publish", "2026", "-o", work)):
        assert run(*args).code == 0, args
    make_joint_draw(run, work)
    assert run("results", "template", DRAW, "--dept", "SCJG", "-o", work / "results.xlsx").code == 0
    fill(work / "results.xlsx", work / "results-filled.xlsx")
    assert run("draws", "export", DRAW, "-o", work / "bundle.json").code == 0
    if not ON_PG:
        with connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone is the whole store
    (work / "template").write_text(str(db))
    return work


@pytest.fixture
def fuzz_store(fuzz_template, store_env, cli):
    copy_store((fuzz_template / "template").read_text(), store_env)
    return cli


# The schema (SQLite: sqlite_master; PostgreSQL: tables' columns and triggers), and rows in storage order.
SCHEMA = ("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
          "UNION ALL SELECT c.relname, t.tgname, t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
          "WHERE NOT t.tgisinternal ORDER BY 1, 2"
          if ON_PG else "SELECT * FROM sqlite_master ORDER BY name")
TABLES = ("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
          if ON_PG else "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
ROWID = "ctid" if ON_PG else "rowid"


def content(db) -> dict:
    """Every table's rows (the store is small): what "nothing was written" is checked against."""
    with connect(db) as conn:
        out = {}
        for (table,) in conn.execute(TABLES).fetchall():
            digest = hashlib.sha256(repr(conn.execute(f"SELECT * FROM {table} ORDER BY {ROWID}").fetchall()).encode())
            out[table] = digest.hexdigest()
        out["schema"] = repr(conn.execute(SCHEMA).fetchall())
        return out


def audit_length(db) -> int:
    with connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


WRITES = {"departments", "objects", "inspectors", "conflicts", "plans", "tasks", "results", "checklists"}


def run_checked(cli, db: Path, *args):
    """Run one command; assert the documented outcome and that a failure wrote nothing."""
    before, length = content(db), audit_length(db)
    result = cli(*args)
    assert result.code in (0, 1, 2, 3), (args, result.code, result.err)
    assert "Traceback" not in result.err and "internal error" not in result.err, (args, result.err)
    assert "Traceback" not in result.out
    if result.code != 0:
        assert result.err.strip(), "a failure must say why"
        assert content(db) == before, f"{args} failed ({result.code}) but changed the store: {result.err}"
    else:
        writes = args[0] in WRITES and not ({"validate", "--dry-run"} & set(map(str, args)))
        assert audit_length(db) == length + (1 if writes else 0), args
    return result


# ---------------------------------------------------------------- generic mutations


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", " ", "A", "SCJG", "存续", "2026-13-45", "10%", "-1", "0", "1e309", "91441882MA4UXXXXX1"]),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 1, 1)),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=6), SCALARS, max_size=3))


def _paths(tree, prefix=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def mutated(draw, tree, max_changes: int = 3):
    """The tree with 1..max_changes changes: a node deleted, replaced, renamed, duplicated or wrapped."""
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(1, max_changes))):
        paths = list(_paths(tree))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(tree, path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "rename", "duplicate", "wrap"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(VALUES)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(key)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "wrap":
            parent[key] = [parent[key]] if draw(st.booleans()) else {"x": parent[key]}
    return tree


@st.composite
def text_damage(draw, text: str) -> str:
    """Truncated, or with random characters spliced in."""
    at = draw(st.integers(0, len(text)))
    if draw(st.booleans()):
        return text[:at]
    return text[:at] + draw(st.text(min_size=1, max_size=8)) + text[at:]


def yaml_text(tree) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


@st.composite
def yaml_files(draw, path: Path):
    original = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = yaml_text(draw(mutated(original)))
    if draw(st.integers(0, 4)) == 0:
        body = draw(text_damage(body))
    return body.encode("utf-8")


def read_rows(path: Path, limit: int = 30) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))[: limit + 1]


@st.composite
def table_rows(draw, rows: list[list[str]]):
    """A table with cells replaced, columns dropped / swapped / renamed, rows repeated or ragged."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop_column", "swap_columns", "header", "repeat_row",
                                   "ragged", "blank_row", "drop_header"]))
        width = len(rows[0]) if rows and rows[0] else 0
        if op == "cell" and len(rows) > 1 and width:
            r, c = draw(st.integers(1, len(rows) - 1)), draw(st.integers(0, width - 1))
            if c < len(rows[r]):
                rows[r][c] = draw(st.one_of(st.text(max_size=20), st.sampled_from(
                    ["", "9.14E+17", "914418823019003011", "２０２６年１月５日", "吊销，未注销", "E", "高风险", "=1/0", "\u3000"])))
        elif op == "drop_column" and width > 1:
            c = draw(st.integers(0, width - 1))
            rows = [r[:c] + r[c + 1 :] for r in rows]
        elif op == "swap_columns" and width > 1:
            a, b = draw(st.integers(0, width - 1)), draw(st.integers(0, width - 1))
            for r in rows:
                if max(a, b) < len(r):
                    r[a], r[b] = r[b], r[a]
        elif op == "header" and width:
            rows[0][draw(st.integers(0, width - 1))] = draw(st.sampled_from(["", "uscc", "名称", "状态", "x", "UscC "]))
        elif op == "repeat_row" and len(rows) > 1:
            rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
        elif op == "ragged" and len(rows) > 1:
            r = draw(st.integers(1, len(rows) - 1))
            rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))] + draw(st.lists(st.text(max_size=4), max_size=2))
        elif op == "blank_row":
            rows.insert(draw(st.integers(0, len(rows))), [])
        elif op == "drop_header" and rows:
            rows = rows[1:]
    return rows


@st.composite
def csv_files(draw, path: Path):
    rows = draw(table_rows(read_rows(path)))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if draw(st.integers(0, 5)) == 0:  # byte-level damage
        at = draw(st.integers(0, len(data)))
        data = data[:at] + (draw(st.binary(min_size=1, max_size=6)) if draw(st.booleans()) else b"")
    return data


CELLS = st.one_of(st.none(), st.integers(-10**18, 10**18), st.floats(allow_nan=False, allow_infinity=False),
                  st.booleans(), st.text(max_size=12).filter(lambda s: not s.startswith("=")),
                  st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 1, 1)),
                  st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2100, 1, 1)))


def cell_value(value):
    """What Excel can hold: no control characters in text (openpyxl refuses them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_bytes(rows: list[list], extra_sheet: bool = False) -> bytes:
    book = openpyxl.Workbook()
    if extra_sheet:
        book.create_sheet("说明", 0)
    sheet = book.worksheets[-1] if extra_sheet else book.active
    for row in rows:
        sheet.append([cell_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@st.composite
def xlsx_files(draw, path: Path):
    rows: list[list] = draw(table_rows(read_rows(path, 15)))
    for _ in range(draw(st.integers(0, 3))):  # typed cells, as Excel stores them
        if len(rows) > 1 and rows[1]:
            r, c = draw(st.integers(1, len(rows) - 1)), draw(st.integers(0, len(rows[1]) - 1))
            if c < len(rows[r]):
                rows[r][c] = draw(CELLS)
    return xlsx_bytes(rows, extra_sheet=draw(st.integers(0, 5)) == 0)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- random bytes to every importer


IMPORTERS = [
    ("departments", ["departments", "import"], ".yaml"),
    ("departments-csv", ["departments", "import"], ".csv"),
    ("objects", ["objects", "import"], ".csv"),
    ("objects-xlsx", ["objects", "import"], ".xlsx"),
    ("inspectors", ["inspectors", "import"], ".csv"),
    ("conflicts", ["conflicts", "import"], ".csv"),
    ("checklist", ["checklists", "import"], ".yaml"),
    ("plan", ["plans", "import"], ".yaml"),
    ("task", ["tasks", "create", "--file"], ".yaml"),
    ("task-list", ["tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01", "--list"], ".csv"),
    ("results", ["results", "import", "2026-T1-D1"], ".xlsx"),
    ("bundle", ["verify"], ".json"),
]


@pytest.mark.parametrize("command,suffix", [(c, s) for _, c, s in IMPORTERS], ids=[n for n, _, _ in IMPORTERS])
@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda s: s.encode("utf-8")),
                      st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04garbage", b"{}", b"[]", b"null", b"---\n- 1\n",
                                       b"uscc\n", b"\x00" * 64, "名称,代码\n".encode("gbk")])))
def test_random_bytes_are_refused_cleanly(fuzz_store, store_env, tmp_path, command, suffix, data):
    run_checked(fuzz_store, store_env, *command, write(tmp_path, "random" + suffix, data))


# ---------------------------------------------------------------- mutated valid files


@FUZZ
@given(data=st.data())
def test_mutated_directory_csv_in_any_encoding(fuzz_store, store_env, tmp_path, data):
    which = data.draw(st.sampled_from(["objects", "inspectors", "conflicts"]))
    body = data.draw(csv_files(EXAMPLES / f"{which}.csv"))
    options = data.draw(st.sampled_from([[], [], ["--skip-invalid"], ["--dry-run"], ["--sync", "--yes"],
                                         ["--encoding", "gb18030"], ["--encoding", "nonsense"]]))
    if which == "conflicts":
        options = [o for o in options if o not in ("--sync", "--yes")]
    run_checked(fuzz_store, store_env, which, "import", write(tmp_path, f"{which}.csv", body), *options)


@FUZZ
@given(data=st.data())
def test_mutated_directory_xlsx(fuzz_store, store_env, tmp_path, data):
    which = data.draw(st.sampled_from(["objects", "inspectors"]))
    body = data.draw(xlsx_files(EXAMPLES / f"{which}.csv"))
    options = data.draw(st.sampled_from([[], ["--skip-invalid"], ["--sheet", "说明"], ["--sheet", "nope"]]))
    run_checked(fuzz_store, store_env, which, "import", write(tmp_path, f"{which}.xlsx", body), *options)


@FUZZ
@given(data=st.data())
def test_mutated_departments(fuzz_store, store_env, tmp_path, data):
    body = data.draw(yaml_files(EXAMPLES / "departments.yaml"))
    run_checked(fuzz_store, store_env, "departments", "import", write(tmp_path, "departments.yaml", body))


@FUZZ
@given(data=st.data())
def test_mutated_checklist(fuzz_store, store_env, tmp_path, data):
    tree = yaml.safe_load(CHECKLIST.read_text(encoding="utf-8"))
    tree["version"] = "2099.1"  # a new version, so that a harmless mutation imports
    body = yaml_text(data.draw(mutated(tree)))
    if data.draw(st.integers(0, 4)) == 0:
        body = data.draw(text_damage(body))
    path = write(tmp_path, "checklist.yaml", body.encode("utf-8"))
    run_checked(fuzz_store, store_env, "checklists", "validate", path)
    run_checked(fuzz_store, store_env, "checklists", "import", path)


@FUZZ
@given(data=st.data())
def test_mutated_plan(fuzz_store, store_env, tmp_path, data):
    path = write(tmp_path, "plan.yaml", data.draw(yaml_files(EXAMPLES / "plan-2026.yaml")))
    run_checked(fuzz_store, store_env, "plans", "import", path)


@FUZZ
@given(data=st.data())
def test_mutated_ad_hoc_task(fuzz_store, store_env, tmp_path, data):
    path = write(tmp_path, "task.yaml", data.draw(yaml_files(EXAMPLES / "task-2026-canteens-adhoc.yaml")))
    run_checked(fuzz_store, store_env, "tasks", "create", "--file", path)


@FUZZ
@given(data=st.data())
def test_mutated_task_list(fuzz_store, store_env, tmp_path, data):
    body = data.draw(csv_files(EXAMPLES / "school-canteens.csv"))
    run_checked(fuzz_store, store_env, "tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01",
                "--list", write(tmp_path, "list.csv", body))


@FUZZ
@given(data=st.data())
def test_mutated_results(fuzz_store, store_env, fuzz_template, tmp_path, data):
    book = openpyxl.load_workbook(fuzz_template / "results-filled.xlsx")
    sheet = book.worksheets[0]
    for _ in range(data.draw(st.integers(1, 4))):
        r = data.draw(st.integers(1, sheet.max_row + 1))
        c = data.draw(st.integers(1, sheet.max_column + 1))
        sheet.cell(r, c).value = cell_value(data.draw(st.one_of(CELLS, st.sampled_from(
            ["发现问题", "未发现问题；责令整改", "拒签", "签字", "移交主管部门", "2026-08-03", "SCJG", "LZ-17-1", "否"]))))
    if data.draw(st.integers(0, 5)) == 0:
        sheet.delete_cols(data.draw(st.integers(1, sheet.max_column)))
    out = io.BytesIO()
    book.save(out)
    path = write(tmp_path, "results.xlsx", out.getvalue())
    run_checked(fuzz_store, store_env, "results", "import", "2026-T1-D1", path, "--dept", "SCJG")


# ---------------------------------------------------------------- verify is never fooled


@pytest.fixture
def bundle(fuzz_template) -> dict:
    return json.loads((fuzz_template / "bundle.json").read_text(encoding="utf-8"))


def verify(cli, tmp_path: Path, value, raw: str | None = None):
    path = tmp_path / "bundle.json"
    path.write_text(raw if raw is not None else json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")
    result = cli("verify", path, "--json")
    try:  # 3 is for a bundle that does not verify; a file that is not JSON at all is an input error, 1
        json.loads(path.read_text(encoding="utf-8"))
        expected = (0, 3)
    except ValueError:
        expected = (1,)
    assert result.code in expected, (result.code, result.err)
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    return result


def test_the_unchanged_bundle_verifies(fuzz_store, tmp_path, bundle):
    assert verify(fuzz_store, tmp_path, bundle).code == 0


@FUZZ
@given(data=st.data())
def test_any_mutated_bundle_gives_0_or_3_never_a_crash(fuzz_store, tmp_path, bundle, data):
    changed = data.draw(mutated(bundle, max_changes=4))
    raw = json.dumps(changed, ensure_ascii=False, default=str)
    if data.draw(st.integers(0, 6)) == 0:
        raw = data.draw(text_damage(raw))
    verify(fuzz_store, tmp_path, changed, raw)


def _strata_with_people(bundle) -> list[int]:
    return [i for i, s in enumerate(bundle["strata"]) if s["population"]]


@st.composite
def forged(draw, bundle):
    """A bundle changed where it matters: each of these must fail verification (exit 3)."""
    b = copy.deepcopy(bundle)
    strata = _strata_with_people(b)
    i = draw(st.sampled_from(strata))
    s = b["strata"][i]
    kind = draw(st.sampled_from([
        "drop_top_field", "extra_top_field", "drop_stratum_field", "extra_stratum_field", "drop_seed_field",
        "retype_top_field", "duplicate_id", "id_in_two_strata", "wrong_ticket", "swap_selected",
        "population_changed", "population_added", "population_removed", "seed_changed", "take_changed",
        "size_changed", "ratio_changed", "drop_stratum", "selected_replaced", "selected_dropped",
        "digest_changed", "parameters_changed", "rename_stratum",
    ]))
    if kind == "drop_top_field":
        del b[draw(st.sampled_from(sorted(b)))]
    elif kind == "extra_top_field":
        b[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in bundle))] = draw(SCALARS)
    elif kind == "drop_stratum_field":
        del s[draw(st.sampled_from(sorted(s)))]
    elif kind == "extra_stratum_field":
        s[draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in s))] = 1
    elif kind == "drop_seed_field":
        del b["seed"][draw(st.sampled_from(sorted(b["seed"])))]
    elif kind == "retype_top_field":
        key = draw(st.sampled_from(["strata", "seed", "parameters", "format_version", "algorithm", "parameters_sha256", "population_sha256"]))
        b[key] = draw(VALUES.filter(lambda v: v != bundle[key]))
    elif kind == "duplicate_id":
        s["population"].append(draw(st.sampled_from(s["population"])))
    elif kind == "id_in_two_strata":
        others = [j for j in range(len(b["strata"])) if j != i]
        assume(others)
        b["strata"][draw(st.sampled_from(others))]["population"].append(draw(st.sampled_from(s["population"])))
    elif kind == "wrong_ticket":
        assume(s["selected"])
        pick = draw(st.sampled_from(s["selected"]))
        pick["ticket"] = draw(st.text(min_size=1, max_size=30).filter(lambda t: t != pick["ticket"]))
    elif kind == "swap_selected":
        assume(len(s["selected"]) > 1)
        a, c = draw(st.sampled_from([(x, y) for x in range(len(s["selected"])) for y in range(len(s["selected"])) if x < y]))
        s["selected"][a], s["selected"][c] = s["selected"][c], s["selected"][a]
    elif kind == "population_changed":
        at = draw(st.integers(0, len(s["population"]) - 1))
        s["population"][at] = draw(st.text(min_size=1, max_size=18).filter(lambda x: x not in s["population"]))
    elif kind == "population_added":
        s["population"].append(draw(st.text(min_size=1, max_size=18).filter(lambda x: x not in s["population"])))
    elif kind == "population_removed":
        s["population"].pop(draw(st.integers(0, len(s["population"]) - 1)))
    elif kind == "seed_changed":
        b["seed"]["value"] = draw(st.text(min_size=1, max_size=30).filter(lambda v: v != bundle["seed"]["value"]))
    elif kind == "take_changed":
        s["take"] = draw(st.integers(-2, s["size"] + 2).filter(lambda t: t != s["take"]))
    elif kind == "size_changed":
        s["size"] = draw(st.integers(-2, s["size"] + 2).filter(lambda t: t != s["size"]))
    elif kind == "ratio_changed":
        s["ratio"] = draw(st.sampled_from(["1", "0.5", "2", "0", "-1", "abc", 0.5, None]).filter(lambda r: r != s["ratio"]))
    elif kind == "drop_stratum":
        b["strata"].pop(i)
    elif kind == "selected_replaced":
        assume(s["selected"])
        outside = [x for x in s["population"] if x not in {p["id"] for p in s["selected"]}]
        assume(outside)
        s["selected"][draw(st.integers(0, len(s["selected"]) - 1))]["id"] = draw(st.sampled_from(outside))
    elif kind == "selected_dropped":
        assume(s["selected"])
        s["selected"].pop(draw(st.integers(0, len(s["selected"]) - 1)))
    elif kind == "digest_changed":
        where = draw(st.sampled_from(["stratum", "population", "parameters"]))
        fake = draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
        if where == "stratum":
            assume(fake != s["population_sha256"])
            s["population_sha256"] = fake
        else:
            key = f"{where}_sha256"
            assume(fake != b[key])
            b[key] = fake
    elif kind == "parameters_changed":
        p = draw(st.sampled_from(b["parameters"]["strata"]))
        field = draw(st.sampled_from(["ratio", "size", "take", "population_sha256"]))
        p[field] = draw(VALUES.filter(lambda v: v != p[field]))
    elif kind == "rename_stratum":
        s["name"] = draw(st.sampled_from(["E", "unclassified", "", "a"]).filter(lambda n: n != s["name"]))
    return kind, b


@FUZZ
@given(data=st.data())
def test_a_bundle_changed_where_it_matters_never_verifies(fuzz_store, tmp_path, bundle, data):
    kind, b = data.draw(forged(bundle))
    result = verify(fuzz_store, tmp_path, b)
    assert result.code == 3, f"verify was fooled by {kind}"
    assert result.json()["ok"] is False and result.json()["field"] and result.json()["message"]


def test_reordering_keys_and_the_population_changes_nothing(fuzz_store, tmp_path, bundle):
    """The result depends on the set of ids, not their order, and JSON keys have no order."""
    b = copy.deepcopy(bundle)
    for s in b["strata"]:
        s["population"].reverse()
    reordered = json.loads(json.dumps(b, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert verify(fuzz_store, tmp_path, reordered).code == 0
