"""Writing the files users hand on (bundles, lists, templates, exports): whole or not at all,
never over a file by accident, and, where they are zips (XLSX, DOCX, archives), with fixed
times so the same content gives the same bytes.

One path for every output file (``replacing``): it is written under a hidden name beside its
target, flushed to disk (fsync), moved into place by a rename, and the folder is flushed so
the rename lasts too. A killed process, a full disk or a failed write therefore never leaves a
half-written bundle, list, publication, archive or backup under the name an auditor or a
department will open, and never a temporary file behind (docs/reliability.md). A command that
records the file in the store (publish, archive, backup) writes it, calls ``durable`` (flushed
and hashed: what the record names is on disk), records it, commits, and only then is the file
renamed into place.

One rule for every output (``claim``, which ``replacing`` applies): an existing file is
refused unless the command was given ``--force``; and a file the store has imported (its
SHA-256 is in the payload of an import's audit entry, e.g. the filled-in results sheet that
`results import` read) is never replaced, even with ``--force``. Missing folders are created.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator

from shuangsuiji.errors import ExitCode, UserError

_force: ContextVar[bool] = ContextVar("shuangsuiji_force", default=False)

# Set by the CLI while a store is open (cli/context.py): the (seq, command) of the audit entry
# that recorded importing a file with this SHA-256, or None.
imported: Callable[[str], tuple[int, str] | None] | None = None


@contextmanager
def overwriting(allowed: bool = True) -> Iterator[None]:
    """Within this block existing outputs may be replaced: what ``--force`` means for one command."""
    token = _force.set(allowed)
    try:
        yield
    finally:
        _force.reset(token)


def claim(path: str | Path, force: bool = False) -> None:
    """Refuse to write ``path`` if that would replace a file without ``--force`` (``force``, or
    the command's ``overwriting``), or ever replace a file the store imported."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} 是目录，请给出文件名", f"{path} is a directory; give a file name", code=ExitCode.USAGE)
    if not path.exists():
        return
    if not (force or _force.get()):
        raise UserError(f"{path} 已存在，未覆盖（确需覆盖请加 --force）",
                        f"{path} already exists; not overwritten (add --force to replace it)")
    if imported is not None:
        try:
            with open(path, "rb") as fh:  # in pieces: a backup being replaced may be large
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError as exc:
            raise UserError(f"无法读取 {path}：{exc.strerror or exc}", f"Cannot read {path}: {exc.strerror or exc}") from None
        entry = imported(digest)
        if entry is not None:
            seq, command = entry
            raise UserError(
                f"{path} 是存储已导入的文件（审计日志第 {seq} 条 {command}），即使加 --force 也不覆盖：请另选文件名",
                f"{path} is a file the store imported (audit entry {seq}, {command}); it is never replaced, "
                "even with --force: choose another name",
            )


def make_folder(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; the ones created, outermost first."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"无法创建目录 {path.parent}：{exc.strerror or exc}",
                        f"Cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    return missing


@contextmanager
def replacing(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path``, on any error it is removed.

    ``claim`` is checked first (``force``: the command's --force), and missing folders are
    created (and removed again if the write fails). The temporary name keeps the suffix, so
    writers that choose a format by suffix still work. When the block ends, the file is flushed
    to disk, renamed over ``path`` and the folder flushed. An OSError while writing becomes a
    UserError naming the target; the old file at ``path`` is then unchanged.
    """
    path = Path(path)
    claim(path, force)
    created = make_folder(path)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    done = False
    try:
        yield partial
        _fsync(partial)  # the bytes on disk before the name points at them
        os.replace(partial, path)
        done = True
        _fsync_folder(path.parent)  # and the rename itself
    except OSError as exc:
        raise UserError(f"无法写入 {path}：{exc.strerror or exc}", f"Cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        if not done:
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:  # not empty: something else is in it now
                    break


def durable(partial: Path) -> tuple[int, str]:
    """Flush a file written inside ``replacing`` to disk; its size and SHA-256, for the record
    that names it (committed before ``replacing`` renames it into place)."""
    _fsync(partial)
    with open(partial, "rb") as fh:
        return os.fstat(fh.fileno()).st_size, hashlib.file_digest(fh, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder; its renames are as durable as it makes them
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- deterministic zips


def iso_time(when: tuple) -> str:
    year, month, day, hour, minute, second = when
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def zip_entry(name: str, when: tuple) -> zipfile.ZipInfo:
    """A zip entry that carries nothing of the machine or the moment it was written on."""
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # fixed, or a zip made on Windows would differ in this byte
    info.external_attr = 0o100644 << 16
    return info


def normalise_ooxml(blob: bytes, when: tuple) -> bytes:
    """An XLSX/DOCX rewritten with every entry time, and the created/modified document properties, set to ``when``.

    openpyxl writes the time of saving into both; python-docx into the entry times. The content
    (every part, in its order) is unchanged.
    """
    stamp = iso_time(when)
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + stamp.encode() + m.group(3), data)
            dst.writestr(zip_entry(info.filename, when), data)
    return out.getvalue()
