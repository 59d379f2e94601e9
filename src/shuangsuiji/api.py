"""The Python API: a store a script can open, read as typed rows and change through the tool's services.

What sqlite-utils' ``Database`` is to its CLI: the same product without the command line.

    from shuangsuiji import Store

    store = Store.open("lianzhou.db", operator="陈晓莹")   # or a postgresql:// URL
    store.init()
    store.import_entities("名录库.xlsx")
    for task in store.tasks():
        print(task.id, task.name)

Reads return the SQLModel rows of ``store/models.py`` (``Task``, ``Draw``, ``Entity``, …), read
in one transaction each. Writes call the very services the commands call, in one write
transaction each, so they take the same write lock and import permit, refuse the same bad
input (``UserError``, the message in English as ``str(exc)`` and in Chinese as ``exc.zh``) and
append the same audit-log entries (``operator`` is the log's 操作人, 第五条). A write returns
what the matching command prints with ``--json``.

The bulk paths stay raw SQL where it is measured faster: directory imports (services/upsert.py:
staged, set-based merges and PostgreSQL COPY) and the draw's population queries
(services/population.py: each class's codes from the partial index in one aggregate). Typed rows are
for reading what a script looks at; ``entities()`` streams them, so a whole directory never sits
in memory at once.
"""

from __future__ import annotations

import getpass
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection
from sqlmodel import col, select

from shuangsuiji.store import engine, migrations
from shuangsuiji.store.models import AuditLog, Department, Draw, DrawSelection, Entity, Inspector, Task, rows

__all__ = ["Store", "AuditLog", "Department", "Draw", "DrawSelection", "Entity", "Inspector", "Task"]


def _operator() -> str:
    """SHUANGSUIJI_OPERATOR, else the OS user, as the command line does (第五条: 责任可溯)."""
    name = os.environ.get("SHUANGSUIJI_OPERATOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return f"uid:{os.getuid()}"


class Store:
    """An open store (a SQLite file or a PostgreSQL database); close it, or use it in ``with``."""

    def __init__(self, db: str | os.PathLike, *, operator: str | None = None):
        self.db = str(db)
        self.operator = operator or _operator()
        self._store = engine.Store(self.db)

    @classmethod
    def open(cls, db: str | os.PathLike, *, operator: str | None = None) -> "Store":
        """The store at a SQLite path or a ``postgresql://`` URL; ``operator`` defaults as on the command line."""
        return cls(db, operator=operator)

    def close(self) -> None:
        self._store.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ transactions

    def _require_file(self) -> None:
        """A SQLite path that is not there is a mistyped store, not a new empty one (only ``init`` creates)."""
        from shuangsuiji.errors import UserError
        from shuangsuiji.store.dialect import sqlite_path

        path = sqlite_path(self.db)
        if path is not None and not path.exists():
            raise UserError(f"存储 {path} 不存在：先运行 init()", f"No store at {path}: run init() first")

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        self._require_file()
        with self._store.read() as conn:
            migrations.require_current(conn, self.db)
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        self._require_file()
        with self._store.write() as conn:
            migrations.require_current(conn, self.db)
            yield conn

    # ------------------------------------------------------------ reading: typed rows

    def departments(self) -> list[Department]:
        with self._reading() as conn:
            return rows(conn, select(Department).order_by(Department.code))

    def tasks(self, year: int | None = None) -> list[Task]:
        """Every task (of ``year``), by year and id; ``definition`` is the frozen canonical JSON."""
        from shuangsuiji.services.tasks import task_rows

        with self._reading() as conn:
            return task_rows(conn, year)

    def task(self, task_id: str) -> Task:
        """One task; ``UserError`` if there is none."""
        from shuangsuiji.services.tasks import task_row

        with self._reading() as conn:
            return task_row(conn, task_id)

    def draws(self, task_id: str | None = None) -> list[Draw]:
        """Every draw (of one task), void ones included, by task and attempt."""
        from shuangsuiji.services.draws import draw_rows

        with self._reading() as conn:
            return draw_rows(conn, task_id)

    def draw(self, draw_id: str) -> Draw:
        """One draw; ``UserError`` if there is none (naming the task's draws, as `draws show` does)."""
        from shuangsuiji.services.draws import get_draw

        with self._reading() as conn:
            return get_draw(conn, draw_id)

    def selection(self, draw_id: str) -> list[DrawSelection]:
        """The locked list of a draw (第九条), by stratum and position; empty until it is drawn."""
        from shuangsuiji.services.draws import selection_rows

        with self._reading() as conn:
            return selection_rows(conn, draw_id)

    def entity(self, uscc: str) -> Entity:
        """One entity of the directory by its 统一社会信用代码 (spaces and case forgiven); ``UserError`` if absent."""
        from shuangsuiji.services.objects import entity_row

        with self._reading() as conn:
            return entity_row(conn, uscc)

    def entities(
        self,
        *,
        status: str | list[str] | None = None,
        risk_class: str | list[str] | None = None,
        region: str | list[str] | None = None,
        industry: str | list[str] | None = None,
        include_removed: bool = False,
    ) -> Iterator[Entity]:
        """The directory's entities in code order, streamed; each filter is a value or a list ("any of").

        The read transaction stays open until the iteration ends (or the iterator is closed).
        """
        from shuangsuiji.services.objects import entity_rows

        def listed(value: str | list[str] | None) -> list[str] | None:
            return [value] if isinstance(value, str) else value

        with self._reading() as conn:
            yield from entity_rows(conn, status=listed(status), risk_class=listed(risk_class), region=listed(region),
                                   industry=listed(industry), include_removed=include_removed)

    def officers(self, department: str | None = None, *, include_removed: bool = False) -> list[Inspector]:
        """The officers of the 执法检查人员名录库 (of one department), by department and certificate number."""
        from shuangsuiji.services.inspectors import officer_rows

        with self._reading() as conn:
            return officer_rows(conn, department, include_removed=include_removed)

    def audit_head(self) -> AuditLog | None:
        """The last entry of the audit log (what `shuangsuiji audit head` publishes); None when empty."""
        with self._reading() as conn:
            last = rows(conn, select(AuditLog).order_by(col(AuditLog.seq).desc()).limit(1))
        return last[0] if last else None

    def verify_audit(self) -> dict:
        """The whole hash chain checked (as `shuangsuiji audit verify --json`)."""
        from shuangsuiji.services import audit

        with self._reading() as conn:
            return audit.verify(conn)

    # ------------------------------------------------------------ writing: through the services

    def init(self) -> list[int]:
        """Create or upgrade the store's schema (as `shuangsuiji init`); the migrations applied."""
        from shuangsuiji.services import maintenance

        with self._store.write() as conn:
            return maintenance.init(conn, self.operator)

    def import_departments(self, path: str | os.PathLike) -> dict:
        """The 联席会议 member departments from a YAML file (as `departments import`)."""
        from shuangsuiji.services.departments import import_departments

        with self._writing() as conn:
            return import_departments(conn, Path(path), self.operator)

    def import_entities(self, path: str | os.PathLike, *, sync: bool = False, skip_invalid: bool = False,
                        encoding: str | None = None, sheet: str | None = None) -> dict:
        """Upsert the 检查对象名录库 from CSV/XLSX (as `objects import`): one transaction, every change in
        the history and the log; a bad row refuses the whole file unless ``skip_invalid``."""
        from shuangsuiji.services.importing import gc_paused
        from shuangsuiji.services.objects import import_objects

        with gc_paused(), self._writing() as conn:
            summary, parsed, _ = import_objects(conn, Path(path), operator=self.operator, encoding=encoding, sheet=sheet,
                                                sync=sync, skip_invalid=skip_invalid)
        return {**summary, "rejected_rows": [p.to_json() for p, _ in parsed.rejected]}

    def import_officers(self, path: str | os.PathLike, *, sync: bool = False, skip_invalid: bool = False,
                        encoding: str | None = None, sheet: str | None = None) -> dict:
        """Upsert the 执法检查人员名录库 (as `inspectors import`)."""
        from shuangsuiji.services.inspectors import import_inspectors

        with self._writing() as conn:
            summary, parsed, _ = import_inspectors(conn, Path(path), operator=self.operator, encoding=encoding,
                                                   sheet=sheet, sync=sync, skip_invalid=skip_invalid)
        return {**summary, "rejected_rows": [p.to_json() for p, _ in parsed.rejected]}

    def import_conflicts(self, path: str | os.PathLike, *, skip_invalid: bool = False, encoding: str | None = None) -> dict:
        """Declared conflicts of interest 申报回避 (as `conflicts import`)."""
        from shuangsuiji.services.inspectors import import_conflicts

        with self._writing() as conn:
            summary, parsed, _ = import_conflicts(conn, Path(path), operator=self.operator, encoding=encoding,
                                                  skip_invalid=skip_invalid)
        return {**summary, "rejected_rows": [p.to_json() for p, _ in parsed.rejected]}

    def import_checklist(self, path: str | os.PathLike) -> dict:
        """A version of the joint checklist 联合清单 (as `checklists import`)."""
        from shuangsuiji.services.checklists import import_checklist

        with self._writing() as conn:
            return import_checklist(conn, Path(path), self.operator)

    def create_task(self, file: str | os.PathLike | None = None, *, from_plan: int | None = None,
                    plan_task: str | None = None, task_id: str | None = None,
                    list_file: str | os.PathLike | None = None) -> Task:
        """A task (第八条) from an ad hoc YAML ``file``, or from ``plan_task`` of the published plan of
        year ``from_plan`` (as `tasks create`); frozen once created. Returns its row."""
        from shuangsuiji.errors import ExitCode, UserError
        from shuangsuiji.services import tasks

        if (from_plan is None) == (file is None) or (from_plan is not None and not plan_task):
            raise UserError("请指定 file 或 from_plan 与 plan_task（二选一）", "give either file, or from_plan with plan_task",
                            code=ExitCode.USAGE)
        listed = Path(list_file) if list_file is not None else None
        with self._writing() as conn:
            if from_plan is not None:
                result = tasks.create_from_plan(conn, from_plan, plan_task, self.operator, task_id=task_id, list_file=listed)
            else:
                result = tasks.create_adhoc(conn, Path(file), self.operator, task_id=task_id, list_file=listed)
        return self.task(result["id"])

    def run_draw(self, task_id: str, *, seed: str | None = None, beacon_value: str | None = None,
                 dice: str | None = None) -> Draw:
        """Freeze, seed, draw and lock in one transaction (as `draws run`, 第九条); the locked draw's row."""
        from shuangsuiji.services import draws

        with self._writing() as conn:
            result = draws.run(conn, task_id, operator=self.operator, seed=seed, beacon_value=beacon_value, dice=dice)
        return self.draw(result["draw"])

    def assign_inspectors(self, draw_id: str) -> dict:
        """Draw the officers and form each entity's team (as `draws inspectors`, 第十条, 第十一条)."""
        from shuangsuiji.services import teams

        with self._writing() as conn:
            return teams.assign_inspectors(conn, draw_id, self.operator)

    def __repr__(self) -> str:
        return f"Store({engine.shown(self.db)!r})"
