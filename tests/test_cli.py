"""The command line as users and scripts meet it: real subprocesses where it matters."""

import json
import re

from conftest import EXAMPLES, run_process
from shuangsuiji import __version__


def test_version():
    result = run_process("--version")
    assert result.code == 0 and result.out.strip() == f"shuangsuiji {__version__}"


def test_help_is_chinese_by_default_and_english_on_request():
    zh = run_process("--help", env={"SHUANGSUIJI_LANG": "", "LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert zh.code == 0 and "检查对象名录库" in zh.out and "随机" in zh.out
    en = run_process("--lang", "en", "--help", env={"SHUANGSUIJI_LANG": "", "LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert en.code == 0 and "Object directory" in en.out
    by_locale = run_process("objects", "--help", env={"SHUANGSUIJI_LANG": "", "LANG": "en_US.UTF-8", "LC_ALL": ""})
    assert "Import entities" in by_locale.out


def test_chinese_error_messages(store_env, tmp_path):
    result = run_process("--db", tmp_path / "nowhere.db", "objects", "list", env={"SHUANGSUIJI_LANG": "zh"})
    assert result.code == 1
    assert "不存在" in result.err and "shuangsuiji init" in result.err


def test_usage_error_exits_2(cli):
    assert cli("objects", "import").code == 2
    assert cli("no-such-command").code == 2


def test_json_error_goes_to_stdout_and_message_to_stderr(cli, tmp_path):
    assert cli("init").code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("uscc,name,status\nNOTACODE,x,存续\n", encoding="utf-8")
    result = cli("objects", "import", bad, "--json")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["exit_code"] == 1
    assert data["problems"][0] == {
        "file": str(bad), "row": 2, "field": "uscc", "value": "NOTACODE",
        "message": "a unified social credit code has 18 characters",
    }
    assert "error:" in result.err


def test_missing_file_is_a_clear_error(cli):
    assert cli("init").code == 0
    result = cli("objects", "import", "does-not-exist.csv")
    assert result.code == 1 and "File not found: does-not-exist.csv" in result.err


def test_demo_runs_end_to_end_in_a_fresh_store(tmp_path):
    result = run_process("--lang", "en", "demo", "--dir", tmp_path / "demo", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "$ shuangsuiji --db" in result.err
    assert "Audit log intact" in result.err
    assert "Verified: 2026-L01-D1 is exactly reproduced" in result.err  # the committed draw's bundle
    assert "Every entity has a result for every item." in result.err  # the filled templates were imported
    out = tmp_path / "demo"
    for name in ("publish-2026-L01-D1-SCJG.xlsx", "publish-2026-L01-D1-STHJ.xlsx", "report-2026-L01-D1.html",
                 "report-plan-2026.html", "report-year-2026.xlsx", "archive-2026-L01-D1.zip"):
        assert (out / name).is_file(), name
    bundle = json.loads((out / "bundle-2026-L01-D1.json").read_text(encoding="utf-8"))
    drawn = sum(len(s["selected"]) for s in bundle["strata"])
    assert drawn and len(list((out / "forms").glob("*.docx"))) == drawn  # one on-site checklist per drawn entity
    archived = run_process("archive", "verify", out / "archive-2026-L01-D1.zip", "--json")
    assert archived.code == 0 and json.loads(archived.out)["ok"] is True, archived.out
    assert "2026-L01-D1" in (out / "report-2026-L01-D1.html").read_text(encoding="utf-8")
    head = re.search(r"^(\d+):([0-9a-f]{64})$", result.out, re.M)
    assert head, result.out
    db = tmp_path / "demo" / "demo.db"
    check = run_process("--db", db, "audit", "verify", "--expect-head", head.group(0), "--json")
    assert check.code == 0 and json.loads(check.out)["ok"] is True
    again = run_process("--lang", "en", "demo", "--dir", tmp_path / "demo", cwd=tmp_path)
    assert again.code == 0  # a fresh store each time, never a half-old one


def test_operator_from_option_env_and_default(cli):
    assert cli("--operator", "李四", "init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    log = cli("audit", "log", "--json").json()
    assert [e["operator"] for e in log] == ["李四", "tester"]
