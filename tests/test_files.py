"""Output files are written whole or not at all (docs/reliability.md)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from shuangsuiji.errors import UserError
from shuangsuiji.files import overwriting, replacing


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "bundle.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), overwriting(), replacing(target) as partial:
        partial.write_text("half", encoding="utf-8")
        raise RuntimeError("killed half-way")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]


def test_a_finished_write_replaces_the_file_and_keeps_the_suffix(tmp_path):
    target = tmp_path / "list.xlsx"
    with replacing(target) as partial:
        assert partial.suffix == ".xlsx" and partial.parent == tmp_path
        partial.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["list.xlsx"]


def test_an_unwritable_place_is_a_user_error_naming_the_folder(tmp_path):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = tmp_path / "a-file" / "out.csv"  # a folder cannot be made where a file is
    with pytest.raises(UserError) as caught, replacing(target) as partial:
        partial.write_text("x", encoding="utf-8")
    assert str(target.parent) in caught.value.en


def test_missing_folders_are_created_and_removed_again_when_the_write_fails(tmp_path):
    target = tmp_path / "new" / "deeper" / "out.csv"
    with pytest.raises(RuntimeError), replacing(target) as partial:
        partial.write_text("half", encoding="utf-8")
        raise RuntimeError("killed half-way")
    assert list(tmp_path.iterdir()) == []
    with replacing(target) as partial:
        partial.write_text("whole", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "whole"


def test_an_existing_file_is_refused_without_force_and_kept(tmp_path):
    target = tmp_path / "list.csv"
    target.write_text("filled in by hand", encoding="utf-8")
    with pytest.raises(UserError) as caught, replacing(target) as partial:
        partial.write_text("new", encoding="utf-8")
    assert "already exists" in caught.value.en and "--force" in caught.value.en
    assert target.read_text(encoding="utf-8") == "filled in by hand"
    with overwriting(), replacing(target) as partial:
        partial.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"


def test_an_export_to_a_missing_directory_creates_it(store, tmp_path):
    out = tmp_path / "nowhere" / "checklist.csv"
    assert store("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml").code == 0
    result = store("checklists", "export", "--format", "csv", "-o", out)
    assert result.code == 0, result.err
    assert out.read_text(encoding="utf-8-sig").count("\n") > 1


def _fails(*args, **kwargs):
    raise OSError(5, "Input/output error")


def test_a_write_that_cannot_reach_the_disk_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    """The file is flushed (fsync) before it is renamed into place: if that fails, nothing is replaced."""
    import shuangsuiji.files as files

    target = tmp_path / "bundle.json"
    target.write_text("old", encoding="utf-8")
    monkeypatch.setattr(files, "_fsync", _fails)
    with pytest.raises(UserError) as caught, overwriting(), replacing(target) as partial:
        partial.write_text("new", encoding="utf-8")
    assert f"Cannot write {target}: Input/output error" == caught.value.en
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]


def test_a_failed_rename_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    import shuangsuiji.files as files

    target = tmp_path / "list.csv"
    target.write_text("old", encoding="utf-8")
    monkeypatch.setattr(files.os, "replace", _fails)
    with pytest.raises(UserError), overwriting(), replacing(target) as partial:
        partial.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


def test_the_file_is_flushed_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    """What makes a write survive a power cut, in this order (no other way to observe it here)."""
    import shuangsuiji.files as files

    done = []
    real_fsync, real_replace = files.os.fsync, files.os.replace
    monkeypatch.setattr(files.os, "fsync", lambda fd: (done.append(("fsync", files.os.path.isdir(f"/proc/self/fd/{fd}"))),
                                                      real_fsync(fd))[1])
    monkeypatch.setattr(files.os, "replace", lambda a, b: (done.append(("rename", None)), real_replace(a, b))[1])
    with replacing(tmp_path / "out.json") as partial:
        partial.write_text("whole", encoding="utf-8")
    assert done == [("fsync", False), ("rename", None), ("fsync", True)]
