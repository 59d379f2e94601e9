"""联合清单 — the joint checklist (第六条): its YAML schema, its checks, diff and export rows.

A checklist lists, per entry, the 抽查领域, the 检查对象, the 发起部门 and 配合部门, and the
抽查事项 with their 检查依据 and 检查方式 ("谁监管、谁牵头、谁发起", 第三条). Local additions
(增补) must be filed with the joint-meeting office (第六条 third paragraph).

Pure functions over text and parsed objects: no store, no CLI, no file I/O. The file is read
with yaml_doc.py, so that schema and rule problems name ``file``, ``row`` and a readable
``field`` path such as ``entries[3].items[0].basis``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from shuangsuiji.domain.yaml_doc import Path, YamlModel, format_path, load_model
from shuangsuiji.errors import Problem

# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

MethodName = Literal["书面检查", "网络监测", "实地核查", "检验检测", "行政部门检查结果或专业意见", "委托专业机构辅助"]
METHODS: tuple[str, ...] = get_args(MethodName)
# Wording drifts between platforms and notices; all of these mean an on-site check.
METHOD_ALIASES = {"实地检查": "实地核查", "现场检查": "实地核查", "现场核查": "实地核查"}


def _method(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return METHOD_ALIASES.get(value, value)
    return value


def _one_or_many(value: Any) -> Any:
    """A single text where a list is expected is read as a one-element list."""
    return [value] if isinstance(value, str) else value


Method = Annotated[MethodName, BeforeValidator(_method)]
TextList = Annotated[list[Text], BeforeValidator(_one_or_many)]


class Item(BaseModel):
    """抽查事项: one check item, performed by one department of its entry."""

    model_config = ConfigDict(extra="forbid")

    id: Text
    name: Text
    department: Text
    basis: Text  # 检查依据
    methods: Annotated[list[Method], BeforeValidator(_one_or_many), Field(min_length=1)]  # 检查方式
    key_item: bool = False  # 重点检查事项

    @field_validator("methods")
    @classmethod
    def _dedupe(cls, methods: list[str]) -> list[str]:
        return list(dict.fromkeys(methods))  # 实地检查 and 实地核查 are one method


class LocalAddition(BaseModel):
    """增补 (第六条 third paragraph): a locally added entry, filed with the joint-meeting office."""

    model_config = ConfigDict(extra="forbid")

    filed_on: date | None = None
    filed_with: Text | None = None
    note: Text | None = None


def _addition(value: Any) -> Any:
    # `local_addition: true` marks an addition whose filing is still to be recorded.
    if value is True:
        return {}
    if value is False:
        return None
    return value


class Entry(BaseModel):
    """One row group of the joint checklist: area, object type, departments and items."""

    model_config = ConfigDict(extra="forbid")

    id: Text
    area: Text  # 抽查领域
    object_type: Text  # 检查对象
    initiating: Text  # 发起部门
    cooperating: TextList = []  # 配合部门
    items: list[Item] = []
    local_addition: Annotated[LocalAddition | None, BeforeValidator(_addition)] = None

    @property
    def departments(self) -> list[str]:
        """任务执行部门 of this entry: initiating first, then cooperating."""
        return [self.initiating, *(c for c in self.cooperating if c != self.initiating)]


class Checklist(YamlModel):
    """A version of the joint checklist (联合清单)."""

    version: Text
    title: Text
    issued_by: Text
    issued_on: date
    based_on: Text
    entries: Annotated[list[Entry], Field(min_length=1)]

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def item(self, item_id: str) -> tuple[Entry, Item] | None:
        """The item with this id and the entry it belongs to."""
        for e in self.entries:
            for it in e.items:
                if it.id == item_id:
                    return e, it
        return None


def load_checklist(text: str, file: str | None = None) -> Checklist:
    """Parse checklist YAML; raise UserError listing every syntax and schema problem."""
    return load_model(Checklist, text, file, what_zh="联合清单", what_en="checklist")


# ---------------------------------------------------------------------------------------
# Rules (第六条)
# ---------------------------------------------------------------------------------------


def department_label(code: str, known: Collection[str]) -> str:
    """``SCJG（市场监督管理局）`` when names are known (a mapping), else the code."""
    if isinstance(known, Mapping) and known.get(code):
        return f"{code}（{known[code]}）"
    return code


def validate_checklist(checklist: Checklist, known_departments: Collection[str] | None, file: str | None = None) -> list[Problem]:
    """Every rule problem of a parsed checklist (not just the first).

    ``known_departments``: department codes of the joint meeting (a mapping code → name
    gives names in messages); None when there is no store to take them from, and the codes
    are not checked. Checks: unknown departments, duplicate entry and item ids,
    entries without items, an item's department outside its entry, the initiating
    department listed as cooperating, a local addition (增补) without filing data.
    """
    problems: list[Problem] = []

    def add(path: Path, zh: str, en: str, value: str | None = None) -> None:
        problems.append(Problem(zh, en, file=file, row=checklist.line_of(path), field=format_path(path), value=value))

    def known(code: str, path: Path) -> None:
        if known_departments is not None and code not in known_departments:
            add(path, f"未知部门代码 {code}（不在部门名录中）", f"unknown department code {code} (not in the department list)", code)

    entry_seen: dict[str, int] = {}
    item_seen: dict[str, Path] = {}
    for i, entry in enumerate(checklist.entries):
        at: Path = ("entries", i)
        if entry.id in entry_seen:
            first = format_path(("entries", entry_seen[entry.id]))
            add(at + ("id",), f"条目编号 {entry.id} 重复（{first} 已使用）", f"duplicate entry id {entry.id} (already used by {first})", entry.id)
        else:
            entry_seen[entry.id] = i
        known(entry.initiating, at + ("initiating",))
        coop_seen: set[str] = set()
        for j, code in enumerate(entry.cooperating):
            path = at + ("cooperating", j)
            known(code, path)
            if code == entry.initiating:
                add(path, f"发起部门 {code} 不应同时列为配合部门", f"the initiating department {code} must not also be cooperating", code)
            elif code in coop_seen:
                add(path, f"配合部门 {code} 重复列出", f"cooperating department {code} is listed twice", code)
            coop_seen.add(code)
        if not entry.items:
            add(at + ("items",), f"条目 {entry.id} 没有抽查事项", f"entry {entry.id} has no check items")
        for k, item in enumerate(entry.items):
            ip: Path = at + ("items", k)
            if item.id in item_seen:
                first = format_path(item_seen[item.id])
                add(ip + ("id",), f"抽查事项编号 {item.id} 重复（{first} 已使用）", f"duplicate item id {item.id} (already used by {first})", item.id)
            else:
                item_seen[item.id] = ip
            if known_departments is not None and item.department not in known_departments:
                known(item.department, ip + ("department",))
            elif item.department not in entry.departments:
                add(
                    ip + ("department",),
                    f"实施部门 {item.department} 不是条目 {entry.id} 的发起或配合部门",
                    f"department {item.department} is neither the initiating nor a cooperating department of entry {entry.id}",
                    item.department,
                )
        la = entry.local_addition
        if la is not None and (la.filed_on is None or la.filed_with is None):
            missing = [name for name in ("filed_on", "filed_with") if getattr(la, name) is None]
            add(
                at + ("local_addition",),
                f"第六条：增补事项须报市联席会议办公室备案，缺少备案信息 {'、'.join(missing)}",
                f"Article 6: a local addition must be filed with the joint-meeting office; missing {', '.join(missing)}",
            )
    return problems


# ---------------------------------------------------------------------------------------
# Diff between versions
# ---------------------------------------------------------------------------------------

_HEADER_FIELDS = ("title", "issued_by", "issued_on", "based_on")
_ENTRY_FIELDS = ("area", "object_type", "initiating", "cooperating", "local_addition")
_ITEM_FIELDS = ("name", "department", "basis", "methods", "key_item")


def _changes(old: dict, new: dict, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {f: {"old": old.get(f), "new": new.get(f)} for f in fields if old.get(f) != new.get(f)}


def diff_checklists(a: Checklist, b: Checklist) -> dict[str, Any]:
    """What changed from checklist version ``a`` to ``b``, as JSON-ready dicts.

    Entries and items are matched by id (an item may move between entries: its ``entry``
    then shows as changed). Keys: ``from_version``, ``to_version``, ``identical``,
    ``header`` (changed top-level fields), ``entries`` and ``items`` each with ``added``,
    ``removed`` and ``changed`` (``changes``: field → {old, new}), and ``summary`` counts.
    Lists are expected to be valid (unique ids); with duplicates the first one counts.
    """
    a_entries, b_entries = _first_entries(a), _first_entries(b)
    a_items, b_items = _first_items(a), _first_items(b)

    def entry_dump(e: Entry) -> dict:
        d = e.model_dump(mode="json", exclude={"items"})
        d["items"] = [it.id for it in e.items]
        return d

    entries_changed = []
    for entry_id, e in b_entries.items():
        if entry_id in a_entries:
            old, new = entry_dump(a_entries[entry_id]), entry_dump(e)
            changes = _changes(old, new, _ENTRY_FIELDS)
            if sorted(old["items"]) != sorted(new["items"]):
                changes["items"] = {"old": old["items"], "new": new["items"]}
            if changes:
                entries_changed.append({"id": entry_id, "changes": changes})

    items_changed = []
    for item_id, (entry_id, it) in b_items.items():
        if item_id in a_items:
            old_entry, old_it = a_items[item_id]
            old = {**old_it.model_dump(mode="json"), "entry": old_entry}
            new = {**it.model_dump(mode="json"), "entry": entry_id}
            changes = _changes(old, new, ("entry", *_ITEM_FIELDS))
            if changes:
                items_changed.append({"id": item_id, "entry": entry_id, "changes": changes})

    def brief_entry(e: Entry) -> dict:
        return {"id": e.id, "area": e.area, "object_type": e.object_type}

    def brief_item(entry_id: str, it: Item) -> dict:
        return {"id": it.id, "entry": entry_id, "name": it.name}

    diff = {
        "from_version": a.version,
        "to_version": b.version,
        "header": _changes(a.model_dump(mode="json"), b.model_dump(mode="json"), _HEADER_FIELDS),
        "entries": {
            "added": [brief_entry(e) for i, e in b_entries.items() if i not in a_entries],
            "removed": [brief_entry(e) for i, e in a_entries.items() if i not in b_entries],
            "changed": entries_changed,
        },
        "items": {
            "added": [brief_item(e, it) for i, (e, it) in b_items.items() if i not in a_items],
            "removed": [brief_item(e, it) for i, (e, it) in a_items.items() if i not in b_items],
            "changed": items_changed,
        },
    }
    diff["summary"] = {f"{part}_{kind}": len(diff[part][kind]) for part in ("entries", "items") for kind in ("added", "removed", "changed")}
    diff["identical"] = not diff["header"] and not any(diff["summary"].values())
    return diff


def _first_entries(checklist: Checklist) -> dict[str, Entry]:
    """Entries by id in list order (the first of duplicates)."""
    out: dict[str, Entry] = {}
    for e in checklist.entries:
        out.setdefault(e.id, e)
    return out


def _first_items(checklist: Checklist) -> dict[str, tuple[str, Item]]:
    """Items by id in list order, with their entry id (the first of duplicates)."""
    out: dict[str, tuple[str, Item]] = {}
    for e in checklist.entries:
        for it in e.items:
            out.setdefault(it.id, (e.id, it))
    return out


# ---------------------------------------------------------------------------------------
# Flat rows for export (XLSX / CSV / JSON)
# ---------------------------------------------------------------------------------------

# (key in JSON, 中文表头, English header): one row per 抽查事项, the columns of published lists.
EXPORT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("no", "序号", "No."),
    ("entry_id", "清单编号", "Entry"),
    ("area", "抽查领域", "Area"),
    ("item_id", "事项编号", "Item"),
    ("item", "抽查事项", "Check item"),
    ("object_type", "检查对象", "Inspected objects"),
    ("initiating", "发起部门", "Initiating department"),
    ("cooperating", "配合部门", "Cooperating departments"),
    ("department", "实施部门", "Performed by"),
    ("basis", "检查依据", "Legal basis"),
    ("methods", "检查方式", "Methods"),
    ("key_item", "重点事项", "Key item"),
    ("local_addition", "增补/备案", "Local addition / filing"),
)


def export_rows(checklist: Checklist, department_names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per check item with its entry's fields, keyed as in ``EXPORT_COLUMNS``.

    Values are display text (lists joined with 、; departments shown by name when
    ``department_names`` is given), so the same rows serve XLSX, CSV and JSON.
    """
    names = department_names or {}

    def dept(code: str) -> str:
        return names.get(code, code)

    rows = []
    for entry in checklist.entries:
        la = entry.local_addition
        if la is None:
            addition = ""
        elif la.filed_on and la.filed_with:
            addition = f"增补，{la.filed_on.isoformat()} 报{la.filed_with}备案"
        else:
            addition = "增补（未备案）"
        for item in entry.items:
            rows.append(
                {
                    "no": len(rows) + 1,
                    "entry_id": entry.id,
                    "area": entry.area,
                    "item_id": item.id,
                    "item": item.name,
                    "object_type": entry.object_type,
                    "initiating": dept(entry.initiating),
                    "cooperating": "、".join(dept(c) for c in entry.cooperating),
                    "department": dept(item.department),
                    "basis": item.basis,
                    "methods": "、".join(item.methods),
                    "key_item": "是" if item.key_item else "",
                    "local_addition": addition,
                }
            )
    return rows
