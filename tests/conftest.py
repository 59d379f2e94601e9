"""Every test gets its own store under tmp_path, English messages and a fixed operator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before shuangsuiji is imported: the interface language is fixed at import (help texts).
os.environ["SHUANGSUIJI_LANG"] = "en"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "lianzhou"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def store_env(tmp_path, monkeypatch):
    db = tmp_path / "store.db"
    monkeypatch.setenv("SHUANGSUIJI_DB", str(db))
    monkeypatch.setenv("SHUANGSUIJI_OPERATOR", "tester")
    monkeypatch.setenv("SHUANGSUIJI_LANG", "en")
    from shuangsuiji import i18n

    i18n.set_lang("en")
    return db


@pytest.fixture
def cli(capsys):
    """Run one command line in this process; returns exit code, stdout and stderr apart."""
    from shuangsuiji.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(int(code), captured.out, captured.err)

    return run


@pytest.fixture
def store(cli):
    """An initialised store with the example departments, directory, officers and conflicts."""
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    assert cli("objects", "import", EXAMPLES / "objects.csv").code == 0
    assert cli("inspectors", "import", EXAMPLES / "inspectors.csv").code == 0
    assert cli("conflicts", "import", EXAMPLES / "conflicts.csv").code == 0
    return cli


def run_process(*args: str, env: dict | None = None, cwd: Path | None = None, stdin: str | None = None) -> Result:
    """Run the real console entry point in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "shuangsuiji", *[str(a) for a in args]],
        capture_output=True, text=True, env=full_env, cwd=cwd, input=stdin, timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
