"""Hostile content (issue 16, docs/reliability.md "Hostile content"): nothing an imported list holds
becomes a formula, markup or a crash in a file the tool writes, and no file it reads can exhaust
time or memory. The corpus is tests/hostile_corpus.py; the bombs are built here."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from conftest import EXAMPLES, ON_PG, ROOT, rows, run_process, sqlite_only
from hostile_corpus import FORMULA_START, FORMULAS, NUMBERS, hostile
from test_results import DRAW, make_joint_draw, selected, template

CHROMIUM = Path("/usr/bin/chromium")
SIGNED_NUMBER = re.compile(r"[+-]\d+(?:[ ,]\d+)*(?:\.\d+)?%?")
RESULT_NOTE = '=HYPERLINK("http://x","click")'


def hostile_directory(tmp_path: Path) -> tuple[Path, Path]:
    """The example directory and officers with a hostile text leading every name and address."""
    out = []
    for src, fields in (("objects.csv", ("name", "address")), ("inspectors.csv", ("name",))):
        with open(EXAMPLES / src, encoding="utf-8", newline="") as fh:
            data = list(csv.DictReader(fh))
        for i, row in enumerate(data):
            for j, f in enumerate(fields):
                row[f] = hostile(i + j) + row[f]
        path = tmp_path / f"hostile-{src}"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)
        out.append(path)
    return out[0], out[1]


def cells_of_xlsx(blob: bytes) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(blob))
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_no_formula_xlsx(blob: bytes, name: str) -> list[str]:
    """No formula cell; and every visible sheet prints its header row on each page, fitted to the width."""
    book = openpyxl.load_workbook(io.BytesIO(blob))
    for ws in book.worksheets:
        if ws.sheet_state == "visible" and ws.max_row > 1:
            assert ws.print_title_rows == "$1:$1" and ws.page_setup.fitToWidth == 1, (name, ws.title)
            assert ws.sheet_properties.pageSetUpPr.fitToPage
            assert ws.page_setup.orientation == ("landscape" if ws.max_column > 6 else "portrait"), (name, ws.title)
    cells = cells_of_xlsx(blob)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, (name, formulas[:5])
    return [c.value for c in cells if isinstance(c.value, str)]


def assert_no_formula_csv(text: str, name: str) -> list[str]:
    values = [v for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for v in row]
    live = [v for v in values if v.startswith(FORMULA_START) and not SIGNED_NUMBER.fullmatch(v)]
    assert not live, (name, live[:5])
    return values


@pytest.fixture
def hostile_draw(store, tmp_path, monkeypatch):
    """A locked joint draw with teams over a directory whose every name and address is hostile."""
    objects, officers = hostile_directory(tmp_path)
    assert store("objects", "import", objects).code == 0
    assert store("inspectors", "import", officers).code == 0
    monkeypatch.setenv("SHUANGSUIJI_OPERATOR", "=cmd|' /C calc'!A0")
    return make_joint_draw(store, tmp_path)


def test_every_csv_and_xlsx_output_holds_hostile_text_as_text(hostile_draw, store, tmp_path, store_env):
    outputs: dict[str, Path] = {}
    for suffix in ("xlsx", "csv"):
        for args in (("draws", "dispatch", DRAW, "--dept", "SCJG"), ("reports", "task", DRAW, "--format", suffix)):
            path = tmp_path / f"{args[0]}-{args[1]}.{suffix}"
            result = store(*args, "-o", path)
            assert result.code == 0, (args, result.err)
            outputs[path.name] = path
    # The results template, filled in with a formula-looking note, imported, then published.
    tpl = template(store, tmp_path)
    outputs[tpl.name] = tpl
    book = openpyxl.load_workbook(tpl)
    ws = book.worksheets[0]
    headers = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        for header, value in (("检查结果", "未发现问题"), ("检查日期", "2026-08-03"), ("签字情况", "签字"),
                              ("检查方式", "书面检查"), ("备注", RESULT_NOTE)):
            ws.cell(r, headers.index(header) + 1).value = value
            ws.cell(r, headers.index(header) + 1).data_type = "s"  # typed as text, as Excel stores it
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    result = store("results", "import", DRAW, filled)
    assert result.code == 0, result.err
    # round trip: the note in the store is exactly the text written in the sheet
    assert {r[0] for r in rows(store_env, "SELECT note FROM inspection_result")} == {RESULT_NOTE}
    for suffix in ("xlsx", "csv"):
        path = tmp_path / f"publish.{suffix}"
        assert store("publish", DRAW, "--dept", "SCJG", "-o", path).code == 0
        outputs[path.name] = path
    archive = tmp_path / "archive.zip"
    result = store("archive", DRAW, "-o", archive)
    assert result.code == 0, result.err

    seen: list[str] = []
    blobs = {name: path.read_bytes() for name, path in outputs.items()}
    with zipfile.ZipFile(archive) as zf:
        blobs.update({f"archive:{n}": zf.read(n) for n in zf.namelist() if n.endswith((".xlsx", ".csv"))})
    assert any(n.startswith("archive:results/") for n in blobs)
    for name, blob in blobs.items():
        if name.endswith(".xlsx"):
            seen += assert_no_formula_xlsx(blob, name)
        else:
            seen += assert_no_formula_csv(blob.decode("utf-8"), name)
    # the hostile texts are there, as text: whole in XLSX, behind an apostrophe in CSV
    assert any(v.startswith('=HYPERLINK("http://x"') for v in seen)
    assert any(v.startswith("'=cmd|") for v in seen)
    assert RESULT_NOTE in seen and "'" + RESULT_NOTE in seen
    # HTML report and DOCX forms: the markup is text
    page = tmp_path / "report.html"
    assert store("reports", "task", DRAW, "--format", "html", "-o", page).code == 0
    html_text = page.read_text(encoding="utf-8")
    assert "<img src=x" not in html_text and "<script>document" not in html_text
    assert store("forms", "notice", DRAW, "-o", tmp_path / "notices").code == 0
    xml = b"".join(zipfile.ZipFile(p).read("word/document.xml") for p in (tmp_path / "notices").rglob("*.docx"))
    assert b"<img src=x" not in xml and b"<script>" not in xml
    assert b"=HYPERLINK" in xml and (b"&lt;img src=x" in xml or b"&lt;script&gt;" in xml)  # there, as text
    # the on-screen JSON keeps the data as it is (only files handed on are neutralised)
    names = [s["name"] for s in store("draws", "show", DRAW, "--json").json()["selected"]]
    assert any(n.startswith(tuple(f.strip() for f in FORMULAS)) for n in names)


def test_csv_neutralises_formulas_but_not_numbers(tmp_path):
    from shuangsuiji import table_writer

    path = tmp_path / "t.csv"
    values = FORMULAS + NUMBERS + ["-", "+", "plain", "-1+1", "+86-138"]
    table_writer.write(path, [{"v": v} for v in values], [("v", "值", "value")])
    with open(path, encoding="utf-8-sig", newline="") as fh:
        got = [r[0] for r in csv.reader(fh)][1:]
    for value, written in zip(values, got):
        if value in NUMBERS or value in ("plain",):
            assert written == value
        else:
            assert written == "'" + value, value
    xlsx = tmp_path / "t.xlsx"
    table_writer.write(xlsx, [{"v": v} for v in values + ["a\x01b\x00c"]], [("v", "值", "value")])
    ws = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in ws["A"]][1:] == values + ["a\ufffdb\ufffdc"]
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.fitToWidth == 1


# ---------------------------------------------------------------- Markdown publication, in a real browser


def test_plan_markdown_escapes_markup_and_table_syntax_in_chromium(store, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from markdown_it import MarkdownIt

    assert store("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml").code == 0
    plan = yaml.safe_load((EXAMPLES / "plan-2026.yaml").read_text(encoding="utf-8"))
    plan["title"] = "<img src=x onerror=\"document.body.setAttribute('data-pwned','title')\"> 计划"
    plan["tasks"][0]["name"] = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> a | b"
    plan["tasks"][1]["name"] = "<script>document.body.setAttribute('data-pwned','2')</script> [x](javascript:alert(1))"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert store("plans", "import", path).code == 0
    out = tmp_path / "pub"
    out.mkdir()
    result = store("plans", "publish", "2026", "-o", out)
    assert result.code == 0, result.err
    markdown = (out / "plan-2026.md").read_text(encoding="utf-8")
    page = tmp_path / "plan.html"
    page.write_text("<!doctype html><meta charset=utf-8><body>" + MarkdownIt("commonmark").enable("table").render(markdown),
                    encoding="utf-8")
    profile = tmp_path / "profile"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "data-pwned" not in dom.split("<body")[1].split(">")[0]  # no handler ran
    assert "<img" not in dom and "<script>document" not in dom and 'href="javascript' not in dom
    first = dom.split("<tbody>")[1].split("</tr>")[0]
    assert first.count("<td") == dom.split("<thead>")[1].split("</tr>")[0].count("<th")  # the | kept its column
    assert "a | b" in first


# ---------------------------------------------------------------- control characters and line separators


def test_control_characters_are_refused_naming_row_and_column(store, tmp_path, store_env):
    before = rows(store_env, "SELECT COUNT(*) FROM audit_log")
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8").splitlines()
    for bad in ("\x01", "\x07", "\x00", "\x0b"):
        rows_ = lines[:3] + [lines[3].replace("有限公司", f"有限{bad}公司", 1)]
        path = tmp_path / "bad.csv"
        path.write_text("\n".join(rows_) + "\n", encoding="utf-8")
        result = store("objects", "import", path)
        assert result.code == 1, (repr(bad), result.err)
        assert "row 4" in result.err and "field name" in result.err, result.err
        assert "Traceback" not in result.err and "internal error" not in result.err
    officers = (EXAMPLES / "inspectors.csv").read_text(encoding="utf-8").replace("王强", "王\x07强", 1)
    path.write_text(officers, encoding="utf-8")
    result = store("inspectors", "import", path)
    assert result.code == 1 and "row 2" in result.err and "field name" in result.err and "U+0007" in result.err
    assert rows(store_env, "SELECT COUNT(*) FROM audit_log") == before  # nothing written, on either backend


def test_line_separators_inside_a_field_stay_in_one_row(store, tmp_path, store_env):
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8").splitlines()
    fixed = [lines[0]] + [line.replace("有限公司", f"有限\u2028公\x85\u2029司", 1) for line in lines[1:]]
    path = tmp_path / "sep.csv"
    path.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    result = store("objects", "import", path, "--json")
    assert result.code == 0, result.err
    names = [r[0] for r in rows(store_env, "SELECT name FROM entity WHERE name LIKE '%\u2028%'")]
    assert names and all("有限\u2028公\x85\u2029司" in n for n in names)


def test_a_store_already_holding_control_characters_still_writes_every_output(store, tmp_path, monkeypatch):
    """As a store imported by an older version: the import check is switched off to build it."""
    from shuangsuiji import table_reader

    objects, _ = hostile_directory(tmp_path)
    text = objects.read_text(encoding="utf-8").replace("有限公司", "有限\x01公\x07司")
    objects.write_text(text, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(table_reader, "_CONTROL", re.compile(r"(?!)"))
        assert store("objects", "import", objects).code == 0
    draw = make_joint_draw(store, tmp_path)
    assert any("\x01" in n for n in [s["name"] for s in store("draws", "show", draw, "--json").json()["selected"]])
    for args in (("draws", "dispatch", draw, "--dept", "SCJG", "-o", tmp_path / "d.xlsx"),
                 ("results", "template", draw, "--dept", "SCJG", "-o", tmp_path / "t.xlsx"),
                 ("reports", "task", draw, "--format", "xlsx", "-o", tmp_path / "r.xlsx"),
                 ("forms", "notice", draw, "-o", tmp_path / "notices"),
                 ("forms", "checklist", draw, "-o", tmp_path / "checklists")):
        result = store(*args)
        assert result.code == 0, (args, result.err)
    assert any("\ufffd" in (c.value or "") for c in cells_of_xlsx((tmp_path / "d.xlsx").read_bytes()) if isinstance(c.value, str))


# ---------------------------------------------------------------- bombs: refused in seconds, with bounded memory


def measured(*args, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run the CLI in a child; its wall time and its peak RSS in MB (read by a wrapper process of its own)."""
    # The child's address space is capped at 2 GB, so a build without the guards fails fast
    # instead of taking the shared machine's memory.
    wrapper = ("import resource, subprocess, sys; cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
               "r = subprocess.run(sys.argv[1:], preexec_fn=cap, timeout=60); "
               "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    import os

    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "shuangsuiji", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    elapsed = time.monotonic() - start
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) // 1024
    return proc, elapsed, rss


def alias_bomb(key_path: list) -> str:
    """9 anchors of 9 aliases each (9^9 nodes once expanded, 1 KB of text) under ``key_path``."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    value = "*a9"
    for key in reversed(key_path):
        value = f"{{{key}: {value}}}" if isinstance(key, str) else f"[{value}]"
    return "\n".join(lines) + "\n" + value.strip("{}") + "\n"


def test_yaml_alias_bombs_are_refused_in_seconds(store, tmp_path, store_env):
    store("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml")
    bomb = tmp_path / "bomb.yaml"
    cases = {
        ("departments", "import"): ["departments", 0, "name"],
        ("plans", "import"): ["tasks"],
        ("checklists", "validate"): ["entries"],
        ("checklists", "import"): ["entries"],
        ("tasks", "create", "--file"): ["name"],
    }
    for command, key_path in cases.items():
        bomb.write_text(alias_bomb(key_path), encoding="utf-8")
        proc, seconds, mb = measured(*command, bomb, env={"SHUANGSUIJI_DB": str(store_env)})
        assert proc.returncode in (1, 3), (command, proc.stderr)
        said = proc.stdout + proc.stderr  # validate lists its problems as a report on stdout
        assert "alias bomb" in said and "SHUANGSUIJI_MAX_YAML_NODES" in said, (command, said)
        assert "Traceback" not in said and "internal error" not in said
        assert seconds < 15 and mb < 300, (command, seconds, mb)


def xlsx_bomb(path: Path, rows_: int, headers: list[str]) -> Path:
    """A real XLSX whose sheet is replaced by ``rows_`` identical rows: megabytes on disk, far more inflated."""
    book = openpyxl.Workbook()
    book.active.append(headers)
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(buf)
    row = "".join(f'<c t="inlineStr"><is><t>x</t></is></c>' for _ in headers)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                fh.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                fh.write(("<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in headers) + "</row>").encode())
                chunk = (f"<row>{row}</row>" * 1000).encode()
                for _ in range(rows_ // 1000):
                    fh.write(chunk)
                fh.write(b"</sheetData></worksheet>")
    return path


def test_xlsx_decompression_bomb_is_refused_before_reading(store, tmp_path, store_env):
    make_joint_draw(store, tmp_path)
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx", 2_000_000, ["uscc", "name", "status"])  # ~200 MB inflated
    assert bomb.stat().st_size < 2 << 20
    for command in (("results", "import", DRAW), ("objects", "import"), ("inspectors", "import")):
        proc, seconds, mb = measured(*command, bomb, env={"SHUANGSUIJI_DB": str(store_env)})
        assert proc.returncode == 1, (command, proc.stderr)
        assert "zip bomb" in proc.stderr and "not read" in proc.stderr, proc.stderr
        assert seconds < 15 and mb < 300, (command, seconds, mb)


def test_row_and_file_limits_are_configurable(store, tmp_path):
    result = run_process("objects", "import", EXAMPLES / "objects.csv", env={"SHUANGSUIJI_MAX_ROWS": "10"})
    assert result.code == 1 and "more than 10 rows" in result.err and "SHUANGSUIJI_MAX_ROWS" in result.err
    result = run_process("objects", "import", EXAMPLES / "objects.csv", env={"SHUANGSUIJI_MAX_FILE_MB": "0"})
    assert result.code == 1 and "SHUANGSUIJI_MAX_FILE_MB" in result.err
    result = run_process("checklists", "validate", ROOT / "checklists" / "lianzhou-joint-checklist.yaml",
                         env={"SHUANGSUIJI_MAX_YAML_MB": "0"})
    assert result.code in (1, 3) and "SHUANGSUIJI_MAX_YAML_MB" in result.out + result.err, (result.out, result.err)
    result = run_process("objects", "import", EXAMPLES / "objects.csv", env={"SHUANGSUIJI_MAX_ROWS": "many"})
    assert result.code == 1 and "SHUANGSUIJI_MAX_ROWS must be a whole number" in result.err


def test_archive_verify_refuses_bombs_and_damage_by_name(tmp_path):
    padded = tmp_path / "padded.zip"
    with zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("MANIFEST.json", "w", force_zip64=True) as fh:
            fh.write(b"{")
            block = b" " * (1 << 20)
            for _ in range(300):
                fh.write(block)
            fh.write(b"}")
    proc, seconds, mb = measured("archive", "verify", padded)
    assert proc.returncode == 3 and "MANIFEST.json" in proc.stderr and "zip bomb" in proc.stderr, proc.stderr
    assert seconds < 15 and mb < 200, (seconds, mb)

    encrypted = tmp_path / "encrypted.zip"
    with zipfile.ZipFile(encrypted, "w") as zf:
        zf.writestr("MANIFEST.json", b"{}")
    data = bytearray(encrypted.read_bytes())  # the encrypted flag set in the local and central headers
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    encrypted.write_bytes(bytes(data))
    corrupt = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(corrupt, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("MANIFEST.json", b'{"format": "shuangsuiji-archive", ' + b'"x": 1, ' * 5000 + b"}")
    data = bytearray(corrupt.read_bytes())
    start = data.index(b"MANIFEST.json") + len("MANIFEST.json")
    data[start + 10 : start + 40] = b"\xff" * 30
    corrupt.write_bytes(bytes(data))
    for path in (encrypted, corrupt):
        result = run_process("archive", "verify", path)
        assert result.code == 3, (path.name, result.err)
        assert "MANIFEST.json" in result.err and "damaged" in result.err, result.err
        assert "internal error" not in result.err and "Traceback" not in result.err


# ---------------------------------------------------------------- arguments, stores, pipes


def test_non_utf8_argument_is_a_usage_error(store, store_env):
    import os

    proc = subprocess.run([sys.executable, "-m", "shuangsuiji", "audit", "log", "--command", b"\xff\xfe"],
                          capture_output=True, env={**os.environ, "SHUANGSUIJI_DB": str(store_env)}, timeout=60)
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "not UTF-8" in err and "\\xff" in err, err


def test_audit_log_command_filter_is_literal(store):
    assert store("audit", "log", "--command", "%", "--json").json() == []
    assert store("audit", "log", "--command", "_", "--json").json() == []
    assert store("audit", "log", "--command", "objects", "--json").json()  # a prefix still matches


def test_stores_a_user_can_get_wrong_are_named(store, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 100)
    folder = tmp_path / "folder.db"
    folder.mkdir()
    for db, code, message in ((junk, 1, "is not a SQLite store"), (folder, 2, "is a directory"),
                              ("mysql://u@localhost/x", 2, "Unsupported store mysql://"),
                              ("postgresql://u@no-such-host.invalid/x", 1, "host name cannot be resolved")):
        result = store("--db", db, "objects", "list")
        assert result.code == code and message in result.err, (db, result.err)
        assert "internal error" not in result.err
    result = run_process("objects", "list", env={"SHUANGSUIJI_BUSY_TIMEOUT_MS": "5s"})
    assert result.code == 2 and "SHUANGSUIJI_BUSY_TIMEOUT_MS must be a whole number" in result.err, result.err


@sqlite_only("file permissions and read-only mounts are about a SQLite file")
def test_read_only_store_reads_and_refuses_writes_by_name(store, tmp_path, store_env):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare -m to mount the store's folder read-only")
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copyfile(store_env, folder / "store.db")
    shim = (f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
            f"for c in 'objects list --json' 'audit verify' 'db check' 'objects import {EXAMPLES}/objects.csv'; do "
            f"{sys.executable} -m shuangsuiji --db {folder}/store.db $c >/dev/null; echo \"rc=$?\"; done")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", shim], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["rc=0", "rc=0", "rc=0", "rc=1"], (proc.stdout, proc.stderr)
    assert "is read-only" in proc.stderr and "internal error" not in proc.stderr


def test_closed_stdout_after_the_draw_committed_is_success(store, tmp_path, store_env):
    done = []

    def until_draw(*args):
        """make_joint_draw's checklist and task, through the store; its draw is left for below."""
        if args[:2] == ("draws", "run"):
            done.append(args)
            raise StopIteration
        return store(*args)

    with pytest.raises(StopIteration):
        make_joint_draw(until_draw, tmp_path)
    assert done
    cmd = (f"set -o pipefail; {sys.executable} -m shuangsuiji draws run 2026-T1 --seed 27182818284590452353 "
           f"| (exec 0<&-; true); echo rc=$?")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "SHUANGSUIJI_DB": str(store_env)})
    assert "rc=0" in proc.stdout, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Broken pipe" not in proc.stderr
    assert [d["id"] for d in store("draws", "list", "--json").json()] == ["2026-T1-D1"]  # the draw committed
