"""docs/cli.md's command reference is generated from the command tree and cannot drift (issue 13, point 16)."""

import subprocess
import sys

from conftest import ROOT

DOC = ROOT / "docs" / "cli.md"


def reference(*args):
    return subprocess.run([sys.executable, "-m", "shuangsuiji.cli.reference", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_docs_cli_md_is_up_to_date():
    result = reference("--check")
    assert result.returncode == 0, result.stderr + "\nrun: python -m shuangsuiji.cli.reference"


def test_a_stale_reference_fails_the_check_and_regenerating_keeps_the_hand_written_sections(tmp_path):
    from shuangsuiji.cli.reference import BEGIN, END

    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN)
    body, tail = rest.split(END)
    assert "## Exit codes" in head and "## JSON output" in head  # hand-written, outside the markers
    stale = tmp_path / "cli.md"
    stale.write_text(head + BEGIN + body.replace("--dry-run", "--dry-runn", 1) + END + tail, encoding="utf-8")
    check = reference("--check", stale)
    assert check.returncode == 1 and "out of date" in check.stderr and "python -m shuangsuiji.cli.reference" in check.stderr
    assert reference(stale).returncode == 0
    assert stale.read_text(encoding="utf-8") == text  # regenerated exactly; the sections around it untouched
    assert reference("--check", stale).returncode == 0


def test_the_reference_covers_every_command_and_option():
    from shuangsuiji.cli.reference import commands

    text = DOC.read_text(encoding="utf-8")
    for path, cmd in commands():
        assert f"`{' '.join(('shuangsuiji', *path))}`" in text
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in text, (path, opt)


def test_only_commands_that_have_dry_run_are_said_to(tmp_path):
    """The hand-written contract names the commands with --dry-run; the tree must agree."""
    import re

    import typer

    from shuangsuiji.cli.main import app
    from shuangsuiji.cli.reference import BEGIN

    def walk(cmd, path):  # hidden commands too: `archive DRAW` runs the hidden `archive create`
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, (*path, name))

    contract = DOC.read_text(encoding="utf-8").split(BEGIN)[0]
    claimed = re.search(r"\*\*Imports and edits take `--dry-run`\*\*(.+?)The draw commands", contract, re.S).group(1)
    has = {" ".join(path) for path, cmd in walk(typer.main.get_command(app), ())
           if any("--dry-run" in getattr(p, "opts", []) for p in cmd.params)}
    for name in re.findall(r"`([a-z -]+)`", claimed):
        assert any(h == name or h.startswith(name + " ") for h in has), name


def test_every_option_the_docs_use_exists_on_its_command():
    """Each `shuangsuiji …` line of README.md and docs/*.md names a real command and only its options."""
    import re

    import typer

    from shuangsuiji.cli.main import app

    root = typer.main.get_command(app)
    root_opts = {o for p in root.params for o in getattr(p, "opts", [])}
    problems, checked = [], 0
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8").split("<!-- BEGIN GENERATED")[0]
        for m in re.finditer(r"(?m)(?:^|`|\$ |&& |\| )shuangsuiji((?: [^`\n#|;&]*)?)", text):
            words, cmd, i = m.group(1).split(), root, 0
            while i < len(words):
                if words[i] in root_opts:
                    i += 2 if words[i] in ("--db", "--operator", "--lang") else 1
                elif words[i] in (getattr(cmd, "commands", None) or {}):
                    cmd, i = cmd.commands[words[i]], i + 1
                else:
                    break
            if cmd is root:
                continue
            if getattr(cmd, "commands", None) and "create" in cmd.commands:  # `archive DRAW …`
                cmd = cmd.commands["create"]
            checked += 1
            opts = {o for p in cmd.params for o in getattr(p, "opts", [])} | {"--help", "-h"} | root_opts
            problems += [(doc.name, m.group(0).strip(), w) for w in words[i:]
                         if re.fullmatch(r"--?[a-zA-Z][\w-]*(=.*)?", w) and w.split("=")[0] not in opts]
    assert checked > 80 and problems == []
