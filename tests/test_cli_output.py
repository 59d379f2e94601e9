"""What people read: Chinese tables and key-value blocks at a real terminal width, help and Click's
own texts in Chinese, local times, examples and shell completion (issue 13, points 5, 13, 14)."""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import datetime, timedelta

import pytest
from conftest import EXAMPLES, ROOT, run_process
from rich.cells import cell_len

ZH = {"SHUANGSUIJI_LANG": "zh", "COLUMNS": "80"}
TASK = "2026-L01"
DRAW = "2026-L01-D1"
USCC = re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b")
LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def drawn(store):
    """The example store with the ad hoc canteen task drawn, locked and staffed."""
    cli = store
    assert cli("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml").code == 0
    assert cli("tasks", "create", "--file", EXAMPLES / "task-2026-canteens-adhoc.yaml").code == 0
    assert cli("draws", "run", TASK, "--seed", "31415926535897932384").code == 0
    assert cli("draws", "inspectors", DRAW).code == 0
    return cli


def zh(*args, **env):
    result = run_process(*args, env={**ZH, **env})
    assert result.code == 0, result.err
    return result


def in_pty(*args: str, columns: int = 80) -> str:
    """stdout of the real CLI on a pseudo-terminal ``columns`` wide (no COLUMNS variable: the
    width comes from the terminal itself, as on a coordinator's screen)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "shuangsuiji", *args], stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, env={**env, "SHUANGSUIJI_LANG": "zh", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    return ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


def assert_fits_and_whole(text: str, codes: set[str], width: int = 80) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, f"{cell_len(line)} columns: {line}"
    shown = set(USCC.findall(text))
    assert shown == codes, f"codes broken or missing: {codes - shown}"


def test_draws_show_at_80_columns_on_a_real_terminal_keeps_every_code_whole(drawn):
    shown = drawn("draws", "show", DRAW, "--json").json()
    codes = {s["uscc"] for s in shown["selected"]}
    officers = {m["officer"] for team in shown["teams"] for m in team["members"]}  # inside 姓名（证号） text
    assert codes and officers
    text = in_pty("draws", "show", DRAW, columns=80)
    assert "统一社会信用代码" in text
    assert_fits_and_whole(text, codes)
    assert {o for o in officers if o not in text} == set(), "a certificate number broken across lines"
    assert LOCAL_TIME.search(text)  # the lock time, to the second, unbroken


def test_tables_at_80_columns_keep_codes_and_times_whole(drawn):
    objects = {o["uscc"] for o in drawn("objects", "list", "--limit", "0", "--json").json()}
    text = zh("objects", "list", "--limit", "0").out
    assert_fits_and_whole(text, objects)
    audit = zh("audit", "log")
    assert_fits_and_whole(audit.out, set())
    stamps = drawn("audit", "log", "--json").json()
    assert len(LOCAL_TIME.findall(audit.out)) == len(stamps)  # every time on one line
    for args in (("draws", "list"), ("tasks", "list"), ("followups", "list"), ("inspectors", "list")):
        out = zh(*args).out
        assert all(cell_len(line) <= 80 for line in out.splitlines()), args


def test_narrow_terminal_leaves_out_rightmost_columns_and_says_so(drawn):
    result = zh("draws", "show", DRAW, COLUMNS="60")
    codes = {s["uscc"] for s in drawn("draws", "show", DRAW, "--json").json()["selected"]}
    assert_fits_and_whole(result.out, codes, width=60)
    assert "未显示：检查小组（首位为组长）" in result.err and "--json" in result.err


def value_column(line: str, label: str) -> int:
    """The display column where the value after ``label`` starts."""
    rest = line[len(label):]
    return cell_len(label) + cell_len(rest) - cell_len(rest.lstrip(" "))


@pytest.mark.parametrize("args", [("tasks", "show", TASK), ("draws", "show", DRAW), ("objects", "show", "USCC"),
                                  ("checklists", "show", "2026.1"), ("plans", "show", "2026")])
def test_key_value_blocks_align_by_display_width(drawn, args):
    if args[-1] == "USCC":
        args = (*args[:-1], drawn("draws", "show", DRAW, "--json").json()["selected"][0]["uscc"])
    if args[0] == "plans":
        assert drawn("plans", "import", EXAMPLES / "plan-2026.yaml").code == 0
    out = zh(*args).out
    block = []
    for line in out.splitlines():
        if line[:1] in "┏━┃│└╭" or not line.strip():
            break
        block.append(line)
    starts = {value_column(line, line.split("  ")[0]) for line in block if "  " in line and not line.startswith(" ")}
    assert len(block) >= 3 and len(starts) == 1, block


def test_stored_identifiers_and_seeds_are_words_in_chinese_and_english(drawn):
    from shuangsuiji.cli import output

    shown = zh("draws", "show", DRAW).out
    assert "已锁定" in shown and "locked" not in shown
    task = zh("tasks", "show", TASK).out
    assert "向上取整，非空时至少 1" in task and "ceil_min1" not in task
    assert "round up, at least 1" in drawn("--lang", "en", "tasks", "show", TASK).out
    assert output._cell("imported_list", "scope") == "imported list"  # the tests' interface is English
    seed = json.dumps([["department", "SCJG", "口令"], ["dice", "会议室", "31415926535897932384"]], ensure_ascii=False)
    assert output.seed_text(seed) == "department secret SCJG: 口令; dice 会议室: 31415926535897932384"
    assert output.seed_text("31415926535897932384") == "31415926535897932384"


def test_times_in_local_time_to_the_second_and_utc_in_json(drawn):
    locked_at = drawn("draws", "list", "--json").json()[0]["locked_at"]
    assert locked_at.endswith("Z")
    utc = datetime.fromisoformat(locked_at.replace("Z", "+00:00"))
    beijing = (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert beijing in zh("draws", "list").out  # Asia/Shanghai by default
    assert utc.strftime("%Y-%m-%d %H:%M:%S") in zh("draws", "list", SHUANGSUIJI_TZ="UTC").out
    assert (utc + timedelta(hours=6)).strftime("%H:%M:%S") in zh("draws", "list", SHUANGSUIJI_TZ="Asia/Urumqi").out
    bad = run_process("draws", "list", env={**ZH, "SHUANGSUIJI_TZ": "Mars/Base"})
    assert bad.code == 2 and "SHUANGSUIJI_TZ=Mars/Base" in bad.err and "Traceback" not in bad.err
    csv_text = zh("reports", "task", DRAW, "--format", "csv").out
    assert beijing in csv_text and locked_at not in csv_text
    assert drawn("reports", "task", DRAW, "--json").json()["locked_at"] == locked_at  # JSON keeps UTC


def test_click_texts_and_usage_errors_are_chinese(tmp_path):
    unknown = run_process("draws", "show", "--bogus", env=ZH)
    assert unknown.code == 2
    assert "用法：shuangsuiji draws show" in unknown.err and "没有此选项：--bogus" in unknown.err
    assert "Usage" not in unknown.err and "Error" not in unknown.err
    missing = run_process("draws", "show", env=ZH)
    assert missing.code == 2 and "缺少参数 draw" in missing.err
    typo = run_process("drws", env=ZH)
    assert typo.code == 2 and "没有此命令：drws" in typo.err and "是否想输入 'draws'" in typo.err
    extra = run_process("draws", "show", "a", "b", env=ZH)
    assert extra.code == 2 and "多余的参数：b" in extra.err
    bad_int = run_process("tasks", "list", "--year", "abc", env=ZH)
    assert bad_int.code == 2 and "--year 的值无效：应为整数" in bad_int.err
    page = run_process("draws", "show", "--help", env=ZH)
    assert page.code == 0
    for text in ("用法：", "参数：", "选项：", "显示此帮助并退出", "[必填]", "示例："):
        assert text in page.out
    for text in ("Usage", "Options", "Arguments", "Show this message", "required", "Example"):
        assert text not in page.out
    english = run_process("--lang", "en", "draws", "show", "--bogus")
    assert "Usage: shuangsuiji draws show" in english.err and "No such option: --bogus" in english.err


def test_usage_errors_with_json_print_the_error_object():
    result = run_process("objects", "import", "--json", env=ZH)
    assert result.code == 2
    assert json.loads(result.out) == {"error": "Missing argument 'file'.", "exit_code": 2, "problems": []}


def help_pages(lang: str, columns: int) -> dict[str, str]:
    """Every command's --help, from one process (help texts are fixed at import, per language)."""
    script = (
        "import io, json, contextlib\n"
        "from shuangsuiji.cli.reference import commands\n"
        "from shuangsuiji.cli.main import main\n"
        "pages = {}\n"
        "for path, _ in commands():\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        assert main([*path, '--help']) == 0\n"
        "    pages[' '.join(path)] = out.getvalue()\n"
        "print(json.dumps(pages))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SHUANGSUIJI_LANG": lang, "COLUMNS": str(columns)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("columns", [80, 200])
def test_every_help_line_fits_in_chinese(columns):
    pages = help_pages("zh", columns)
    assert len(pages) > 60
    limit = min(columns, 100)
    for path, page in pages.items():
        for line in page.splitlines():
            assert cell_len(line) <= limit, f"shuangsuiji {path} --help: {cell_len(line)} columns: {line}"
        assert "Usage" not in page and "Options:" not in page, path


def test_every_command_has_an_example_of_itself():
    from shuangsuiji.cli.examples import EXAMPLES as EXAMPLE_TABLE
    from shuangsuiji.cli.reference import commands

    leaves = {" ".join(path): cmd for path, cmd in commands() if path and not getattr(cmd, "commands", None)}
    groups = {" ".join(path) for path, cmd in commands() if getattr(cmd, "commands", None)}
    for path, cmd in leaves.items():
        assert cmd.epilog and f"$ shuangsuiji {path} " in cmd.epilog.replace("\n", " \n") + " ", path
    assert set(EXAMPLE_TABLE) <= set(leaves) | groups | {"archive create"}  # no example of a command that is gone


def test_shell_completion_is_on():
    shown = run_process("--show-completion", "bash")
    assert shown.code == 0 and "_SHUANGSUIJI_COMPLETE" in shown.out
    assert "--install-completion" in run_process("--help").out
    completed = run_process(env={"_SHUANGSUIJI_COMPLETE": "complete_bash", "COMP_WORDS": "shuangsuiji dra", "COMP_CWORD": "1"})
    assert completed.out.split() == ["draws"]
    sub = run_process(env={"_SHUANGSUIJI_COMPLETE": "complete_bash", "COMP_WORDS": "shuangsuiji draws sh", "COMP_CWORD": "2"})
    assert sub.out.split() == ["show"]


def test_wrap_cells_measures_display_width_and_keeps_words_and_punctuation():
    from shuangsuiji.cli.output import wrap_cells

    lines = wrap_cells("为每个执行部门抽取执法人员并组成检查小组（组长来自发起部门，回避，工作量均衡）--department SCJG", 20)
    assert all(cell_len(line) <= 20 for line in lines)
    assert not any(line[:1] in "，。）" for line in lines)
    assert "--department" in "\n".join(lines).split()  # an ASCII word is never cut
