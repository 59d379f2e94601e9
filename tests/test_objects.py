"""The object directory: imports in every format, validation, upsert, history, sync."""

import csv
import json

import openpyxl
import pytest

from conftest import EXAMPLES, connect, new_store, run_process

ENGLISH = ["uscc", "name", "entity_type", "industry", "region", "address", "status", "risk_class", "registered_on"]
CHINESE = ["统一社会信用代码", "名称", "主体类型", "行业", "所属区域", "住所", "登记状态", "信用风险分类", "成立日期"]


def example_rows():
    with open(EXAMPLES / "objects.csv", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[1:]


def directory(cli):
    result = cli("objects", "list", "--json")
    assert result.code == 0
    rows = result.json()
    for row in rows:
        row.pop("updated_at")
    return rows


def count(db, table):
    with connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_example_gb18030_chinese_headers_and_xlsx_give_the_same_directory(cli, tmp_path, monkeypatch):
    rows = example_rows()
    gb = tmp_path / "gb.csv"
    with open(gb, "w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CHINESE)
        writer.writerows(rows)
    xlsx = tmp_path / "objects.xlsx"
    book = openpyxl.Workbook()
    book.active.append(ENGLISH)
    for row in rows:
        book.active.append(row)
    book.save(xlsx)

    seen = []
    for i, source in enumerate([EXAMPLES / "objects.csv", gb, xlsx]):
        monkeypatch.setenv("SHUANGSUIJI_DB", str(new_store(tmp_path, f"s{i}")))
        assert cli("init").code == 0
        result = cli("objects", "import", source, "--json")
        assert result.code == 0, result.err
        assert result.json()["inserted"] == len(rows)
        seen.append(directory(cli))
    assert len(seen[0]) == len(rows)
    assert seen[0] == seen[1] == seen[2]


def test_one_bad_check_digit_writes_nothing_and_names_the_row(cli, tmp_path, store_env):
    rows = example_rows()
    bad_code = rows[9][0][:17] + ("0" if rows[9][0][17] != "0" else "1")
    rows[9][0] = bad_code
    path = tmp_path / "bad.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENGLISH)
        writer.writerows(rows)
    assert cli("init").code == 0
    log_before = count(store_env, "audit_log")
    result = cli("objects", "import", path)
    assert result.code == 1
    assert "bad.csv, row 11, field uscc: the code's check character (GB 32100) is wrong" in result.err
    assert bad_code in result.err
    assert count(store_env, "entity") == 0
    assert count(store_env, "audit_log") == log_before
    assert "Traceback" not in result.err


def test_reimport_is_all_unchanged_and_adds_one_log_entry(store, store_env):
    before = count(store_env, "audit_log")
    result = store("objects", "import", EXAMPLES / "objects.csv", "--json")
    assert result.code == 0
    summary = result.json()
    assert (summary["inserted"], summary["updated"], summary["unchanged"], summary["rejected"]) == (0, 0, 400, 0)
    assert count(store_env, "audit_log") == before + 1
    entry = store("audit", "log", "--json").json()[-1]
    assert entry["command"] == "objects import"
    assert entry["payload"]["unchanged"] == 400
    assert entry["payload"]["sha256"] == summary["sha256"]


@pytest.mark.parametrize("batch", [None, 7])  # 7: the re-import merged a few rows at a time, as a big file is
def test_changes_keep_history_and_sync_removes_without_deleting(store, tmp_path, store_env, monkeypatch, batch):
    if batch:
        from shuangsuiji import table_reader

        monkeypatch.setattr(table_reader, "BATCH_ROWS", batch)
    rows = example_rows()
    changed_code, removed_code = rows[0][0], rows[1][0]
    rows[0][6] = "吊销，未注销"  # status alias
    rows[0][7] = "高风险"  # risk-class Chinese name
    del rows[1]
    path = tmp_path / "v2.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENGLISH)
        writer.writerows(rows)
    result = store("objects", "import", path, "--sync", "--yes", "--json")
    assert result.code == 0, result.err
    summary = result.json()
    assert (summary["inserted"], summary["updated"], summary["removed"]) == (0, 1, 1)

    shown = store("objects", "show", changed_code, "--json").json()
    assert (shown["status"], shown["risk_class"]) == ("吊销", "D")
    changes = {(h["field"], h["new_value"]) for h in shown["history"]}
    assert ("status", "吊销") in changes and ("risk_class", "D") in changes
    assert all(h["operator"] == "tester" and h["audit_seq"] == summary["audit_seq"] for h in shown["history"])

    gone = store("objects", "show", removed_code, "--json").json()
    assert gone["in_directory"] is False
    assert gone["history"][-1]["field"] == "in_directory"
    assert count(store_env, "entity") == 400  # never deleted
    assert len(store("objects", "list", "--json").json()) == 399
    assert count(store_env, "entity_history") == 3  # status, risk class, membership: each once

    # back in the file: it returns to the directory, and that is recorded too
    result = store("objects", "import", EXAMPLES / "objects.csv", "--json")
    assert result.json()["updated"] == 2
    assert store("objects", "show", removed_code, "--json").json()["in_directory"] is True


def test_sync_asks_for_yes_when_not_on_a_terminal(store, tmp_path, store_env):
    rows = example_rows()[:10]
    path = tmp_path / "few.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENGLISH)
        writer.writerows(rows)
    before = count(store_env, "audit_log")
    result = store("objects", "import", path, "--sync")
    assert result.code == 2
    assert "--yes" in result.err
    assert count(store_env, "audit_log") == before


def test_skip_invalid_reports_and_writes_rejects(cli, tmp_path, store_env):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "uscc,name,status,risk_class,region,经营范围\n"
        "91350100M000100Y43,好,存续,A,连州镇,餐饮\n"
        "91350100M000100Y44,坏码,存续,A,连州镇,\n"
        "914403001922038216,坏状态,营业中,B,星子镇,\n"
        "91512081MA62K0260E,坏风险,存续,E,星子镇,\n"
        "91350100M000100Y43,重复,存续,A,连州镇,\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    assert cli("init").code == 0
    strict = cli("objects", "import", path)
    assert strict.code == 1
    for expected in ("row 3, field uscc", "row 4, field status", "row 5, field risk_class", "row 6, field key: duplicate of row 2"):
        assert expected in strict.err
    assert count(store_env, "entity") == 0

    result = cli("objects", "import", path, "--skip-invalid", "--rejects", rejects, "--json")
    assert result.code == 0
    summary = result.json()
    assert (summary["inserted"], summary["rejected"]) == (1, 4)
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        written = list(csv.reader(fh))
    assert written[0][:3] == ["row", "field", "error"]
    assert [r[0] for r in written[1:]] == ["3", "4", "5", "6"]
    kept = cli("objects", "show", "91350100M000100Y43", "--json").json()
    assert kept["attributes"] == {"经营范围": "餐饮"}  # extra columns are kept, not dropped


def test_repeats_are_found_across_batches_naming_the_first_row(cli, tmp_path, store_env, monkeypatch):
    """The file is read in batches: a code repeated in a later batch still names the row it first
    appeared on, every problem is listed in row order, and --skip-invalid keeps each first row."""
    from shuangsuiji import table_reader

    monkeypatch.setattr(table_reader, "BATCH_ROWS", 2)
    codes = [row[0] for row in example_rows()[:4]]
    lines = [
        f"{codes[0]},甲,存续,A",  # row 2
        f"{codes[1]},乙,存续,B",  # row 3
        f"{codes[2]},丙,存续,C",  # row 4
        f"{codes[0]},甲又,存续,A",  # row 5: repeats row 2, one batch later
        "91350100M000100Y44,坏码,存续,A",  # row 6
        f"{codes[2]},丙又,存续,C",  # row 7: repeats row 4
        f"{codes[3]},丁,存续,D",  # row 8
        f"{codes[3]},丁又,存续,D",  # row 9: repeats row 8, in the same batch
    ]
    path = tmp_path / "repeats.csv"
    path.write_text("uscc,name,status,risk_class\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert cli("init").code == 0
    strict = cli("objects", "import", path, "--json")
    assert strict.code == 1 and count(store_env, "entity") == 0
    problems = [(p["row"], p["field"], p["message"]) for p in json.loads(strict.out)["problems"]]
    assert problems == [
        (5, "key", "duplicate of row 2"), (6, "uscc", problems[1][2]), (7, "key", "duplicate of row 4"),
        (9, "key", "duplicate of row 8"),
    ]
    result = cli("objects", "import", path, "--skip-invalid", "--json")
    assert result.code == 0 and (result.json()["inserted"], result.json()["rejected"]) == (4, 4)
    names = {code: cli("objects", "show", code, "--json").json()["name"] for code in codes}
    assert names == dict(zip(codes, ["甲", "乙", "丙", "丁"]))


def test_dry_run_reports_but_writes_nothing(cli, store_env):
    assert cli("init").code == 0
    before = count(store_env, "audit_log")
    result = cli("objects", "import", EXAMPLES / "objects.csv", "--dry-run", "--json")
    assert result.code == 0
    assert result.json()["inserted"] == 400 and result.json()["dry_run"] is True
    assert count(store_env, "entity") == 0
    assert count(store_env, "audit_log") == before


def test_filters_and_unknown_entity(store):
    rows = store("objects", "list", "--risk-class", "高风险", "--status", "存续", "--json").json()
    assert rows and all(r["risk_class"] == "D" and r["status"] == "存续" for r in rows)
    missing = store("objects", "show", "91350100M000100Y43")
    assert missing.code == 1 and "No entity" in missing.err


@pytest.mark.parametrize("command, file", [("objects", "objects.csv"), ("inspectors", "inspectors.csv")])
def test_import_prints_plain_progress_lines_to_a_pipe_unless_quiet(command, file):
    """A cron log (stderr a pipe) shows a long import is alive; --quiet and a short run print none."""
    assert run_process("init").code == 0
    assert run_process("departments", "import", EXAMPLES / "departments.yaml").code == 0
    every_call = {"SHUANGSUIJI_PROGRESS_INTERVAL": "0"}  # tests only: a line at every progress call
    loud = run_process(command, "import", EXAMPLES / file, env=every_call)
    assert loud.code == 0, loud.err
    lines = [line for line in loud.err.splitlines() if line.startswith("reading: ")]
    assert lines and lines[-1].endswith(" s") and " rows, " in lines[-1], loud.err
    assert "\x1b" not in loud.err and "\r" not in loud.err  # no animation
    quiet = run_process(command, "import", EXAMPLES / file, "--quiet", env=every_call)
    assert quiet.code == 0 and "reading" not in quiet.err, quiet.err
    short = run_process(command, "import", EXAMPLES / file)  # the default interval: nothing for a short run
    assert short.code == 0 and "reading" not in short.err, short.err


def test_code_keys_find_exactly_the_repeats_a_set_of_strings_finds():
    """The compact set of codes (12 bytes a code) answers as a set of the strings does, across
    batches and within one, and two codes sharing their 64-bit part are still told apart."""
    import random

    from shuangsuiji.domain.uscc import ALPHABET, make
    from shuangsuiji.services.importing import CodeKeys

    rng = random.Random(17)
    pool = [make("9" + "".join(rng.choice(ALPHABET) for _ in range(16))) for _ in range(3000)]
    # Same last 12 characters, other first 5: with the mixing switched off their 64-bit parts are equal.
    twins = [make(head + "1234567ABCDE") for head in ("91441", "92441", "93441", "91442")]
    for mix in (None, 0):
        keys, expected, seen = CodeKeys(), [], set()
        if mix is not None:
            keys.mix = keys.mix.__class__(mix)
        codes = twins[:1] + [rng.choice(pool) for _ in range(6000)] + twins[1:] + twins  # twins: later batches
        for start in range(0, len(codes), 700):
            batch, earlier = codes[start:start + 700], set(codes[:start])
            repeats = keys.add(batch, list(range(start, start + len(batch))))
            # A repeat of an earlier batch: its first row is named later (None); within the batch: at once.
            want = {j: None if code in earlier else start + batch.index(code)
                    for j, code in enumerate(batch) if code in earlier or batch.index(code) < j}
            assert repeats == want
            expected.append(len(want))
        assert sum(expected) == len(codes) - len(set(codes))


def test_a_first_load_leaves_every_index_trigger_and_foreign_key_as_it_found_them(cli, store_env):
    """The first load of an empty directory drops the table's indexes (and, on PostgreSQL, the foreign
    key that needs the unique one) to build them once after the rows are in: all are back after it."""
    from conftest import ON_PG

    schema = ("SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema() UNION ALL "
              "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint UNION ALL "
              "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
              if ON_PG else "SELECT name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY 1")
    assert cli("init").code == 0
    with connect(store_env) as conn:
        before = conn.execute(schema).fetchall()
    assert cli("objects", "import", EXAMPLES / "objects.csv").code == 0
    with connect(store_env) as conn:
        assert conn.execute(schema).fetchall() == before  # word for word, as the migrations made them
    assert count(store_env, "entity") == 400
