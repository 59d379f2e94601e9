"""Writing the files users hand on (bundles, lists, templates, exports): whole or not at all.

A file is written under a hidden name beside its target and moved into place only when it
is complete, so a killed process or a full disk never leaves a half-written bundle or list
under the name an auditor or a department will open (docs/reliability.md).
"""

from __future__ import annotations

import os
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
