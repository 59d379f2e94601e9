"""One rule for every output file (files.claim): an existing file is refused without --force, a
file the store imported is never replaced, and missing folders are created (docs/reliability.md)."""

from __future__ import annotations

import hashlib

import pytest

from conftest import EXAMPLES, ROOT, run_process
from test_results import fill, make_joint_draw, template

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
OLD = b"a file someone worked on"


@pytest.fixture
def draw(store, tmp_path):
    return make_joint_draw(store, tmp_path)


def outputs(draw: str, target) -> dict[str, list]:
    """Every command that writes a file, writing ``target`` (its suffix chosen per command)."""
    return {
        "results template": ["results", "template", draw, "--dept", "SCJG", "-o", target.with_suffix(".xlsx")],
        "draws dispatch": ["draws", "dispatch", draw, "--dept", "SCJG", "-o", target.with_suffix(".csv")],
        "draws export": ["draws", "export", draw, "-o", target.with_suffix(".json")],
        "reports task": ["reports", "task", draw, "-o", target.with_suffix(".html")],
        "reports year": ["reports", "year", "2026", "-o", target.with_suffix(".xlsx")],
        "checklists export": ["checklists", "export", "-o", target.with_suffix(".csv")],
        "archive": ["archive", draw, "-o", target.with_suffix(".zip")],
        "db backup": ["db", "backup", target.with_suffix(".db")],
    }


@pytest.mark.parametrize("command", list(outputs("D", ROOT).keys()))
def test_every_output_refuses_an_existing_file_without_force(draw, store, tmp_path, command):
    args = outputs(draw, tmp_path / "out")[command]
    target = next(a for a in args if hasattr(a, "suffix") and a.parent == tmp_path)
    target.write_bytes(OLD)
    entries = len(store("audit", "log", "--json").json())
    refused = store(*args)
    assert refused.code == 1, refused.err
    assert "already exists" in refused.err and "--force" in refused.err and str(target) in refused.err
    assert target.read_bytes() == OLD and len(store("audit", "log", "--json").json()) == entries
    forced = store(*args, "--force")
    assert forced.code == 0, forced.err
    assert target.read_bytes() != OLD


def test_publish_refuses_an_existing_file_and_records_nothing(draw, store, tmp_path):
    filled = fill(template(store, tmp_path), tmp_path / "filled.xlsx")
    assert store("results", "import", draw, filled).code == 0
    target = tmp_path / "公示.csv"
    target.write_bytes(OLD)
    assert store("publish", draw, "--dept", "SCJG", "-o", target, "--dry-run").code == 1  # the dry run says so too
    refused = store("publish", draw, "--dept", "SCJG", "-o", target)
    assert refused.code == 1 and "--force" in refused.err and target.read_bytes() == OLD
    assert store("audit", "log", "--command", "publish", "--json").json() == []
    assert store("publish", draw, "--dept", "SCJG", "-o", target, "--force").code == 0
    assert store("audit", "log", "--command", "publish", "--json").json()[0]["payload"]["sha256"] == \
        hashlib.sha256(target.read_bytes()).hexdigest()


def test_forms_refuse_before_writing_any_file(draw, store, tmp_path):
    out = tmp_path / "forms"
    first = store("forms", "checklist", draw, "-o", out, "--json")
    assert first.code == 0
    paths = sorted(out.iterdir())
    paths[-1].write_bytes(OLD)  # one of them edited by hand
    before = {p: p.read_bytes() for p in paths}
    refused = store("forms", "checklist", draw, "-o", out)
    assert refused.code == 1 and "--force" in refused.err
    assert {p: p.read_bytes() for p in sorted(out.iterdir())} == before
    assert store("forms", "checklist", draw, "-o", out, "--force").code == 0
    assert paths[-1].read_bytes() != OLD


def test_the_imported_results_sheet_is_never_overwritten_even_with_force(draw, store, tmp_path):
    """The issue's lost data: `results template -o 结果.xlsx` over the sheet a department filled in."""
    sheet = tmp_path / "结果.xlsx"
    assert store("results", "template", draw, "--dept", "SCJG", "-o", sheet).code == 0
    fill(sheet, sheet)  # filled in, in place, as in Excel
    assert store("results", "import", draw, sheet).code == 0
    filled = sheet.read_bytes()
    for extra in ([], ["--force"]):
        refused = store("results", "template", draw, "--dept", "SCJG", "-o", sheet, *extra)
        assert refused.code == 1 and sheet.read_bytes() == filled
    seq = store("audit", "log", "--command", "results import", "--json").json()[-1]["seq"]
    assert f"store imported (audit entry {seq}, results import)" in refused.err and "even with --force" in refused.err
    # The same bytes under another name are the same imported file; any other file --force replaces.
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(filled)
    assert store("draws", "dispatch", draw, "--dept", "SCJG", "-o", copy, "--force").code == 1
    assert copy.read_bytes() == filled


def test_a_rejects_file_is_claimed_before_the_import(store, tmp_path):
    bad = tmp_path / "bad.csv"
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8-sig").splitlines()
    bad.write_text("\n".join(lines[:3] + ["not-a-code,x,,,,,,"]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    rejects.write_bytes(OLD)
    entries = len(store("audit", "log", "--json").json())
    refused = store("objects", "import", bad, "--skip-invalid", "--rejects", rejects)
    assert refused.code == 1 and "--force" in refused.err
    assert rejects.read_bytes() == OLD and len(store("audit", "log", "--json").json()) == entries
    same = store("objects", "import", bad, "--skip-invalid", "--rejects", bad, "--force")
    assert same.code == 2 and "cannot be the file being imported" in same.err
    assert store("objects", "import", bad, "--skip-invalid", "--rejects", rejects, "--force").code == 0
    assert "not-a-code" in rejects.read_text(encoding="utf-8-sig")


def test_output_folders_are_created_as_forms_does(draw, store, tmp_path, store_env):
    """The README's `plans publish 2026 -o 公示/` and `reports -o nodir/x.html`, through the real CLI."""
    assert store("checklists", "import", CHECKLIST).code == 0  # the plan's version (the draw's is its own)
    assert store("plans", "import", EXAMPLES / "plan-2026.yaml").code == 0
    published = run_process("plans", "publish", "2026", "-o", "公示/", cwd=tmp_path, env={"SHUANGSUIJI_DB": str(store_env)})
    assert published.code == 0, published.err
    assert sorted(p.name for p in (tmp_path / "公示").iterdir()) == ["plan-2026.md", "plan-2026.xlsx"]
    report = run_process("reports", "task", draw, "-o", "nodir/deeper/x.html", cwd=tmp_path,
                         env={"SHUANGSUIJI_DB": str(store_env)})
    assert report.code == 0, report.err
    assert (tmp_path / "nodir" / "deeper" / "x.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
