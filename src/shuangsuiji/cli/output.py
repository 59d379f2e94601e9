"""One output path: JSON for scripts, tables for people; data to stdout, messages to stderr."""

import json
import sys
from typing import Any, Iterable, Sequence

from shuangsuiji.errors import Problem
from shuangsuiji.i18n import t

_err = None
_out = None


def err_console():
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True, highlight=False, soft_wrap=True)
    return _err


def out_console():
    global _out
    if _out is None:
        from rich.console import Console

        _out = Console(highlight=False, soft_wrap=True)
    return _out


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def info(message: str) -> None:
    err_console().print(message, markup=False)


def warn(message: str) -> None:
    err_console().print(t("警告：", "warning: ") + message, style="yellow", markup=False)


def error(message: str, problems: Sequence[Problem] = (), limit: int = 30) -> None:
    console = err_console()
    console.print(t("错误：", "error: ") + message, style="bold red", markup=False)
    for problem in problems[:limit]:
        console.print("  " + str(problem), markup=False)
    if len(problems) > limit:
        console.print(
            t(f"  ……另有 {len(problems) - limit} 处问题（--json 可列出全部）",
              f"  … and {len(problems) - limit} more (--json lists them all)"),
            markup=False,
        )


Column = tuple[str, str, str]  # (key, Chinese header, English header)

# A cell that is one token (a code, an id, a number, a time) is never broken across lines: a USCC
# split in two cannot be read back or searched for. Text columns fold instead, never narrower than
# TEXT_FLOOR cells; when even that does not fit, the rightmost columns are left out (named on stderr).
TEXT_FLOOR = 8
_TOKEN = None


def table(rows: Iterable[dict], columns: Sequence[Column], title: str | None = None) -> None:
    from rich.cells import cell_len
    from rich.table import Table

    console = out_console()
    columns = list(columns)
    cells = [[_cell(row.get(key), key) for key, _, _ in columns] for row in rows]
    header = [cell_len(t(zh, en)) for _, zh, en in columns]
    longest = [max([cell_len(line[i]) for line in cells] or [0]) for i in range(len(columns))]
    whole = [all(_is_token(line[i]) for line in cells) for i in range(len(columns))]
    # A header may fold (to 4 cells: two Chinese characters a line); a token never does.
    natural = [max(longest[i], min(header[i], 4)) if whole[i] else max(longest[i], header[i], 1) for i in range(len(columns))]
    # Text folds, but a code inside it (姓名（44188201006）) never breaks: with the mark after it.
    token = [max([cell_len(m) + 1 for line in cells for m in _ascii_runs(line[i])] or [0]) for i in range(len(columns))]
    least = [natural[i] if whole[i] else max(min(max(longest[i], min(header[i], 4)), TEXT_FLOOR), min(token[i], longest[i]))
             for i in range(len(columns))]
    shown = list(range(len(columns)))
    while len(shown) > 1 and sum(least[i] + 3 for i in shown) + 1 > console.width:
        shown.pop()  # columns come in order of importance: the key first
    widths = {i: max(natural[i], 1) for i in shown}
    excess = sum(widths[i] + 3 for i in shown) + 1 - console.width
    while excess > 0:  # narrow the widest text column, one cell at a time, never below its floor
        wide = max((i for i in shown if widths[i] > least[i]), key=lambda i: widths[i], default=None)
        if wide is None:
            break
        widths[wide] -= 1
        excess -= 1
    grid = Table(title=title, show_lines=False, header_style="bold")
    for i in shown:
        _, zh, en = columns[i]
        grid.add_column(t(zh, en), overflow="fold", width=widths[i])
    for line in cells:  # text is wrapped here, by display width, keeping codes whole; Rich only lays it out
        grid.add_row(*[line[i] if whole[i] else "\n".join(wrap_cells(line[i], widths[i])) for i in shown])
    console.print(grid)
    if len(shown) < len(columns):
        left_out = "、".join(t(zh, en) for _, zh, en in columns[len(shown):])
        info(t(f"（终端宽 {console.width} 列，未显示：{left_out}；加宽终端或用 --json 查看全部）",
               f"(terminal is {console.width} columns wide; not shown: {left_out}; widen it or use --json)"))


def record(data: dict, labels: Sequence[Column]) -> None:
    """One object as aligned "label  value" lines, aligned by display width (a Chinese
    character takes two columns); long values wrap under themselves."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for key, zh, en in labels:
        grid.add_row(t(zh, en), _cell(data.get(key), key))
    console = out_console()
    with console.capture() as captured:
        console.print(grid)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def summary(data: dict, labels: Sequence[Column]) -> None:
    """A changing command's summary, for people (stderr: it is a message, not data)."""
    parts = [f"{t(zh, en)} {data[key]}" for key, zh, en in labels if key in data]
    info("，".join(parts) if t("zh", "en") == "zh" else ", ".join(parts))


def canonical_short(payload: Any, width: int = 60) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


# Stored values that are identifiers in the store, shown in words (English with --lang en).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "state": {"locked": ("已锁定", "locked"), "committed": ("已承诺，未抽取", "committed, not drawn"), "void": ("已作废", "void")},
    "rounding": {"ceil_min1": ("向上取整，非空时至少 1", "round up, at least 1 when non-empty"),
                 "floor": ("向下取整", "round down"), "round_half_up": ("四舍五入", "round half up")},
    "scope": {"imported_list": ("发起部门导入的名单", "imported list"), "directory": ("名录库", "directory")},
}
SEED_SOURCES = {"department": ("部门秘密", "department secret"), "dice": ("掷骰", "dice"), "beacon": ("公共信标", "beacon")}


def _cell(value: Any, key: str = "") -> str:
    from shuangsuiji.i18n import local_time

    if value is None:
        return ""
    if isinstance(value, bool):
        return t("是", "yes") if value else t("否", "no")
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, str):
        if value in VALUE_LABELS.get(key, {}):
            return t(*VALUE_LABELS[key][value])
        if key == "seed":
            return seed_text(value)
        return local_time(value)
    return str(value)


def seed_text(seed: str) -> str:
    """A seed combined from committed sources (canonical JSON of [kind, label, value] parts) as
    words; any other seed (dice digits, --seed text, CSPRNG hex) as it is."""
    try:
        parts = json.loads(seed)
    except ValueError:
        return seed
    if not (isinstance(parts, list) and parts and all(isinstance(p, list) and len(p) == 3 for p in parts)):
        return seed
    return t("；", "; ").join(
        f"{t(*SEED_SOURCES.get(kind, (kind, kind)))} {label}{t('：', ': ')}{value}" for kind, label, value in parts
    )


def _ascii_runs(text: str) -> list[str]:
    import re

    return re.findall(r"[!-~]+", text)


def _is_token(text: str) -> bool:
    """One unbreakable token: printable ASCII without spaces (codes, ids, numbers, hashes up to
    32 characters), or a local time ``YYYY-MM-DD HH:MM:SS``."""
    global _TOKEN
    import re

    if _TOKEN is None:
        _TOKEN = re.compile(r"[!-~]{0,32}|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    return bool(_TOKEN.fullmatch(text))


# ---------------------------------------------------------------- Click's own texts: help and usage errors
#
# Typer (0.29) vendors Click, whose texts are English f-strings, not gettext messages. So help
# pages go through our formatter (Context.formatter_class, Click's documented hook), which
# translates headings and the help option's text and wraps by display width; usage errors come
# here from cli.main (standalone_mode off) and are translated pattern by pattern.

CLICK_ZH = {
    "Usage: ": "用法：",
    "Arguments": "参数",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示此帮助并退出。",
    "[required]": "[必填]",
    "default: ": "默认：",
    "env var: ": "环境变量：",
    "Install completion for the current shell.": "为当前 shell 安装命令补全。",
    "Show completion for the current shell, to copy it or customize the installation.":
        "显示当前 shell 的补全脚本，供复制或自定义安装。",
}
USAGE_ERRORS_ZH = [  # (pattern of Click's English message, Chinese)
    (r"No such option: (\S+)", r"没有此选项：\1"),
    (r"No such command '(.+?)'\.", r"没有此命令：\1。"),
    (r" ?Did you mean (.+?)\?", r"是否想输入 \1？"),
    (r"\(Possible options: (.+)\)", r"（可能的选项：\1）"),
    (r"Missing argument '(.+?)'\.", r"缺少参数 \1。"),
    (r"Missing option '(.+?)'\.", r"缺少选项 \1。"),
    (r"Missing parameter: (\S+)", r"缺少参数 \1"),
    (r"Missing command\.", "缺少命令。"),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", r"多余的参数：\1"),
    (r"Option '(.+?)' requires an argument\.", r"选项 \1 需要一个值。"),
    (r"Option '(.+?)' requires (\d+) arguments\.", r"选项 \1 需要 \2 个值。"),
    (r"Option '(.+?)' does not take a value\.", r"选项 \1 不接受值。"),
    (r"Argument '(.+?)' takes (\d+) values\.", r"参数 \1 需要 \2 个值。"),
    (r"Invalid value for '?(.+?)'?: ", r"\1 的值无效："),
    (r"Invalid value: ", "值无效："),
    (r"Input should be a valid integer.*", "应为整数"),
    (r"Input should be a valid number.*", "应为数字"),
    (r"Input should be a valid date.*", "应为日期（YYYY-MM-DD）"),
    (r"Input should be a valid boolean.*", "应为 true 或 false"),
    (r"Value '(.*?)' is not a valid (\S+?)\.", r"“\1”不是有效的 \2。"),
    (r"Choose from:", "可选值："),
]


def click_text(text: str) -> str:
    """Click's fixed English text in the interface language."""
    if t("zh", "en") == "en":
        return text
    for en, zh in CLICK_ZH.items():
        text = text.replace(en, zh)
    return text


def usage_error_text(message: str) -> str:
    """A usage error's message from Click, in the interface language."""
    import re

    if t("zh", "en") == "en":
        return message
    for pattern, zh in USAGE_ERRORS_ZH:
        message = re.sub(pattern, zh, message)
    return message


def usage_error(exc) -> int:
    """Print a Click usage error (usage line, hint, message) to stderr; its exit code (2)."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group called alone: its help, as Click does
        sys.stderr.write(exc.format_message() + "\n")
        return exc.exit_code
    lines = []
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(t(f"运行 {ctx.command_path} {ctx.help_option_names[0]} 查看帮助。",
                           f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help."))
        lines.append("")
    sys.stderr.write("\n".join(lines) + "\n")
    error(usage_error_text(exc.format_message()))
    return exc.exit_code


NO_LINE_START = set("，。、；：？！）》」』”’")  # Chinese punctuation that never begins a line


def wrap_cells(text: str, width: int) -> list[str]:
    """Greedy wrap by display width: ASCII words stay whole, Chinese breaks between characters."""
    import re

    from rich.cells import cell_len

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, pieces = "", []  # pieces: what ``line`` is made of
        for piece in re.findall(r"[!-~]+|\s+|.", paragraph):
            if cell_len(line) + cell_len(piece) > width and line.strip():
                carried = []
                if piece in NO_LINE_START:  # the mark takes the piece before it along (a character, a whole code),
                    while len(pieces) > 1 and not pieces[-1].isspace():
                        carried.insert(0, pieces.pop())
                        if carried[0] not in NO_LINE_START:  # … and that piece's own mark, if it was one
                            break
                line = "".join(pieces)
                lines.append(line.rstrip())
                pieces = carried + ([] if piece.isspace() else [piece])
            else:
                pieces.append(piece)
            line = "".join(pieces)
        lines.append(line.rstrip())
    return lines


def install_help_formatter() -> None:
    """Use our formatter for every help page and usage line (Click's Context.formatter_class)."""
    import typer

    base = next(c for c in typer.Context.__mro__ if "formatter_class" in vars(c))
    if getattr(base.formatter_class, "ours", False):
        return

    class HelpFormatter(base.formatter_class):
        ours = True

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, click_text("Usage: ") if prefix is None else prefix)

        def write_heading(self, heading: str) -> None:
            self.write(f"{'':>{self.current_indent}}{click_text(heading)}{t('：', ':')}\n")

        def write_text(self, text: str) -> None:
            indent = " " * self.current_indent
            for line in wrap_cells(text.replace("\b\n", ""), max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n" if line else "\n")

        def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
            from rich.cells import cell_len

            rows = [(first, click_text(second)) for first, second in rows]
            first_col = min(max((cell_len(first) for first, _ in rows), default=0), col_max) + col_spacing
            for first, second in rows:
                self.write(f"{'':>{self.current_indent}}{first}")
                if not second:
                    self.write("\n")
                    continue
                if cell_len(first) <= first_col - col_spacing:
                    self.write(" " * (first_col - cell_len(first)))
                else:
                    self.write("\n" + " " * (first_col + self.current_indent))
                lines = wrap_cells(second, max(self.width - first_col - self.current_indent, 20))
                self.write(lines[0] + "\n")
                for line in lines[1:]:
                    self.write(f"{'':>{first_col + self.current_indent}}{line}\n")

    base.formatter_class = HelpFormatter
