"""Writing the files users hand on (bundles, lists, templates, exports): whole or not at all,
and, where they are zips (XLSX, DOCX, archives), with fixed times so the same content gives the same bytes.

A file is written under a hidden name beside its target and moved into place only when it
is complete, so a killed process or a full disk never leaves a half-written bundle or list
under the name an auditor or a department will open (docs/reliability.md).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from shuangsuiji.errors import UserError


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on any error it is removed.

    The temporary name keeps the suffix, so writers that choose a format by suffix still work.
    An OSError while writing becomes a UserError naming the target.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        raise UserError(f"无法写入 {path}：{exc.strerror or exc}", f"Cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


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
