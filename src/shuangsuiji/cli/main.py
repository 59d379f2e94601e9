"""The root command: global options, the sub-apps, and the one place errors become exit codes."""

import sys
from typing import Annotated, Optional

import typer

from shuangsuiji import __version__
from shuangsuiji.cli import context
from shuangsuiji.cli.options import Json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import set_lang, t

SETTINGS = dict(
    name="shuangsuiji",
    help=t(
        "部门联合“双随机、一公开”抽查工具：名录库、随机抽取、锁定名单、结果与公示，每次抽取都可复核。",
        'Joint "双随机、一公开" spot checks: directories, random draws, locked lists, results and '
        "publication — every draw re-verifiable.",
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"shuangsuiji {__version__}")
        raise typer.Exit()


def root(
    db: Annotated[
        str,
        typer.Option("--db", envvar="SHUANGSUIJI_DB", help=t("存储：SQLite 文件路径或数据库 URL", "Store: SQLite file path or database URL")),
    ] = "shuangsuiji.db",
    operator: Annotated[
        Optional[str],
        typer.Option("--operator", envvar="SHUANGSUIJI_OPERATOR", help=t("记入审计日志的操作人（默认：系统用户名）", "Operator recorded in the audit log (default: OS user)")),
    ] = None,
    lang: Annotated[
        Optional[str], typer.Option("--lang", envvar="SHUANGSUIJI_LANG", help=t("界面语言：zh 或 en", "Interface language: zh or en"))
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help=t("出错时显示完整回溯", "Show full tracebacks on errors"))] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help=t("显示版本并退出", "Show the version and exit"))
    ] = False,
) -> None:
    if lang:
        set_lang(lang)
    context.settings.db = db
    context.settings.operator = operator
    context.settings.debug = debug


INIT_HELP = t("创建存储，或通过迁移把它升级到当前结构", "Create the store, or upgrade it to the current schema through migrations")


def init(as_json: Json = False) -> None:
    from shuangsuiji.services import maintenance
    from shuangsuiji.store import migrations

    store = context.store(must_exist=False)
    with store.write() as conn:
        applied = maintenance.init(conn, context.settings.who())
    from shuangsuiji.store.engine import shown

    result = {"db": shown(store.db), "schema_version": migrations.LATEST, "applied": applied}
    from shuangsuiji.cli import output

    if as_json:
        output.emit_json(result)
    elif applied:
        output.info(t(f"存储 {result['db']} 已就绪（结构版本 {migrations.LATEST}，本次应用迁移 {applied}）。",
                      f"Store {result['db']} ready (schema version {migrations.LATEST}; applied migrations {applied})."))
    else:
        output.info(t(f"存储 {result['db']} 已是最新结构（版本 {migrations.LATEST}）。",
                      f"Store {result['db']} is already at the current schema (version {migrations.LATEST})."))


# The sub-apps and top-level commands, in help order: (name, module in shuangsuiji.cli, attribute).
GROUPS = [
    ("departments", "departments", "app"), ("objects", "objects", "app"), ("inspectors", "inspectors", "app"),
    ("conflicts", "inspectors", "conflicts_app"), ("checklists", "checklists", "app"), ("plans", "plans", "app"),
    ("tasks", "tasks", "app"), ("draws", "draws", "app"), ("verify", "draws", None), ("results", "results", "app"),
    ("followups", "followups", "app"), ("forms", "forms", "app"), ("publish", "publish", None),
    ("reports", "reports", "app"), ("archive", "archive", "app"), ("audit", "audit", "app"), ("db", "db", "app"),
    ("demo", "demo", None),
]
ROOT_OPTIONS_WITH_VALUE = ("--db", "--operator", "--lang")


_trees: dict[str | None, typer.Typer] = {}


def build(only: str | None = None) -> typer.Typer:
    """The command tree: everything, or (``only``) the root with just that one group or command.

    A command line names one command, so `main` builds just its branch: importing every cli
    module and building all of Click's groups is start-up every command would pay otherwise.
    Each tree is built once per process.
    """
    if only in _trees:
        return _trees[only]
    from importlib import import_module

    from shuangsuiji.cli import examples

    app = _trees[only] = typer.Typer(**SETTINGS)
    app.callback()(root)
    app.command(help=INIT_HELP)(init)
    for name, module_name, attribute in GROUPS:
        if only is not None and name != only:
            continue
        module = import_module(f"shuangsuiji.cli.{module_name}")
        if attribute is not None:
            app.add_typer(getattr(module, attribute), name=name)
        elif name == "verify":
            app.command(name="verify", help=module.VERIFY_HELP)(module.verify_bundle)
        elif name == "publish":
            app.command(name="publish", help=module.HELP, short_help=module.SHORT_HELP)(module.publish)
        else:
            app.command(name="demo", help=module.HELP)(module.demo)
    examples.attach(app)
    return app


def command_named(args: list[str]) -> str | None:
    """The group or command a command line runs, when it names one; None for the root alone,
    anything unknown, or shell completion (those need the whole tree)."""
    import os

    if any(k.startswith("_SHUANGSUIJI_COMPLETE") for k in os.environ):
        return None
    i = 0
    while i < len(args):
        word = args[i]
        if word in ROOT_OPTIONS_WITH_VALUE:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word if any(word == name for name, _, _ in GROUPS) else None
    return None


def __getattr__(name: str):
    """``app``: the whole command tree, built on first use (docs/cli.md's reference, the tests)."""
    if name == "app":
        return build()
    raise AttributeError(name)


from shuangsuiji.cli import output as _output  # noqa: E402  (cheap: rich is imported only when printing)

_output.install_help_formatter()


_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main(argv: list[str] | None = None) -> int:
    """Run one command line; every error ends here as one message and a documented exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    wants_json = "--json" in args
    stdout_was = _stdout_identity()
    try:
        _check_utf8(args)
        # Not standalone: usage errors come here to be printed in the interface language.
        command = command_named(args)
        tree = build(command)
        result = tree(args=args, prog_name="shuangsuiji", standalone_mode=False)
        return result if isinstance(result, int) else ExitCode.OK
    except SystemExit as exc:
        if exc.code == 1 and _stdout_was_closed(stdout_was):
            return _after_closed_stdout()
        return exc.code if isinstance(exc.code, int) else (ExitCode.OK if exc.code is None else ExitCode.ERROR)
    except typer.Abort:
        from shuangsuiji.cli import output

        output.error(t("已中止，未做任何更改。", "Aborted; nothing was changed."))
        return ExitCode.ERROR
    except UserError as exc:
        from shuangsuiji.cli import output

        if wants_json:
            output.emit_json({"error": exc.en, "exit_code": int(exc.code), "problems": [p.to_json() for p in exc.problems]})
        output.error(exc.message, exc.problems)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except _ClickException as exc:  # a usage error found by Click: wrong option, missing argument, bad value
        from shuangsuiji.cli import output

        if wants_json and exc.exit_code == ExitCode.USAGE:
            output.emit_json({"error": exc.format_message(), "exit_code": int(exc.exit_code), "problems": []})
        return output.usage_error(exc)
    except Exception as exc:  # a bug, not a user mistake: short message unless --debug
        if context.settings.debug or "--debug" in args:
            raise
        from shuangsuiji.cli import output

        output.error(t(f"内部错误：{exc!r}（加 --debug 查看回溯；未写入任何数据）",
                       f"internal error: {exc!r} (use --debug for the traceback; nothing was written)"))
        return ExitCode.ERROR
    finally:
        context.reset_store()


def _check_utf8(args: list[str]) -> None:
    """Bytes that are not UTF-8 in an argument (or a SHUANGSUIJI_ variable) are a usage error, not a crash
    later when the text is stored or printed."""
    import os

    named = [(f"参数 {i}", f"argument {i}", a) for i, a in enumerate(args, start=1)]
    named += [(k, k, v) for k, v in os.environ.items() if k.startswith("SHUANGSUIJI_")]
    for zh, en, value in named:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(value).decode("utf-8", "backslashreplace")
            raise UserError(f"{zh} 含有不是 UTF-8 的字节：{shown}", f"{en} holds bytes that are not UTF-8: {shown}",
                            code=ExitCode.USAGE) from None


def _stdout_identity() -> tuple[int, int] | None:
    import os

    try:
        st = os.fstat(sys.stdout.fileno())
        return st.st_dev, st.st_ino
    except (OSError, ValueError, AttributeError):  # no real stdout (tests capture it)
        return None


def _stdout_was_closed(before: tuple[int, int] | None) -> bool:
    """A write to stdout met a closed pipe and was turned into exit 1: Click swaps in its
    PacifyFlushWrapper; Rich points the stdout descriptor at /dev/null."""
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":
        return True
    return before is not None and _stdout_identity() != before


def _after_closed_stdout() -> int:
    """``… | head -2``: the reader closed the pipe. That fails the command only if it cut the work short
    (a write transaction rolled back); otherwise the work is done and recorded, so exit 0."""
    import os

    if type(sys.stdout).__name__ == "PacifyFlushWrapper":
        sys.stdout = sys.stdout.wrapped
    if type(sys.stderr).__name__ == "PacifyFlushWrapper":
        sys.stderr = sys.stderr.wrapped
    try:  # nothing more can reach the reader; keep the interpreter's last flush quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    store = context._store
    return ExitCode.ERROR if store is not None and store.rolled_back else ExitCode.OK


def run() -> None:
    sys.exit(int(main()))
