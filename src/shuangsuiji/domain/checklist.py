"""联合清单 — the joint checklist (第六条): its YAML schema, its checks, diff and export rows.

A checklist lists, per entry, the 抽查领域, the 检查对象, the 发起部门 and 配合部门, and the
抽查事项 with their 检查依据 and 检查方式 ("谁监管、谁牵头、谁发起", 第三条). Local additions
(增补) must be filed with the joint-meeting office (第六条 third paragraph).

Pure functions over text and parsed objects: no store, no CLI, no file I/O. The YAML reader
here keeps the line of every key, so that schema and rule problems name ``file``, ``row``
and a readable ``field`` path such as ``entries[3].items[0].basis``; ``plan.py`` uses it too.
"""

from __future__ import annotations

import types
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shuangsuiji.errors import Problem, UserError
from shuangsuiji.table_reader import control_problem, limit

# ---------------------------------------------------------------------------------------
# YAML documents with line numbers (shared with plan.py)
# ---------------------------------------------------------------------------------------

Path = tuple[str | int, ...]

# Numbers stay as the text the user typed: `version: 2026.10` must not become "2026.1", and
# `A: 0.05` must become Decimal("0.05"), not the float nearest to it. pydantic parses the
# text into int/Decimal where a field wants a number.
_RAW_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass
class YamlDoc:
    """A parsed YAML document and the 1-based line of every key / list element in it."""

    data: Any
    file: str | None = None
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    built: int = 0  # nodes built so far, an alias counted again each time it is used
    max_nodes: int = 0


# An alias bomb (9 anchors of 9 aliases each: 9^9 nodes from 5 KB) is refused at this many built
# nodes, aliases counted at each use (docs/reliability.md, "Limits"); the largest real file, a
# province's checklist, builds a few thousand.
MAX_YAML_NODES = 100_000


class YamlTooLarge(Exception):
    """Raised inside _build; read_yaml turns it into a named UserError."""


def format_path(path: Path) -> str:
    """``("entries", 3, "items", 0, "basis")`` → ``entries[3].items[0].basis``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad dict key
            out += f".{part}" if out else str(part)
    return out


def read_yaml(text: str, file: str | None) -> YamlDoc:
    """Parse one YAML document, remembering lines; raise UserError on a syntax error.

    Repeated keys in a mapping (which plain YAML loaders silently collapse to the last one)
    are returned as problems.
    """

    doc = YamlDoc(data=None, file=file, max_nodes=limit("SHUANGSUIJI_MAX_YAML_NODES", MAX_YAML_NODES))
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # raises already on a control character in the text
        node = loader.get_single_node()
        if node is not None:
            doc.data = _build(loader, node, (), doc, set())
    except YamlTooLarge:
        zh = f"展开别名后超过 {doc.max_nodes} 个节点（疑为别名炸弹），未读取；上限可用 SHUANGSUIJI_MAX_YAML_NODES 调整"
        en = (f"more than {doc.max_nodes} nodes once aliases are expanded (an alias bomb?); not read. "
              "The limit is SHUANGSUIJI_MAX_YAML_NODES")
        raise UserError(f"{file or 'YAML'}：{zh}", f"{file or 'YAML'}: {en}", problems=[Problem(zh, en, file=file)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise UserError(
            f"{file or 'YAML'} 不是有效的 YAML",
            f"{file or 'YAML'} is not valid YAML",
            problems=[
                Problem(
                    f"YAML 语法错误：{reason}",
                    f"YAML syntax error: {reason}",
                    file=file,
                    row=mark.line + 1 if mark else None,
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(
            f"{file or 'YAML'} 不是有效的 YAML",
            f"{file or 'YAML'} is not valid YAML",
            problems=[Problem(f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}", file=file)],
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, doc: YamlDoc, stack: set[int]) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    doc.built += 1
    if doc.built > doc.max_nodes:
        raise YamlTooLarge
    if id(node) in stack:
        raise yaml.MarkedYAMLError(problem="recursive alias", problem_mark=node.start_mark)
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)  # merge keys (<<): merged pairs first, then the node's own
        pairs = node.value
        for key_node, _ in pairs:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(problem="a key must be plain text", problem_mark=key_node.start_mark)
        own_pairs = pairs[len(pairs) - own :]
        own_keys = {k.value for k, _ in own_pairs}
        # A merged key is overridden by the node's own key of the same name (YAML merge rule).
        merged_pairs = [(k, v) for k, v in pairs[: len(pairs) - own] if k.value not in own_keys]
        out: dict[str, Any] = {}
        stack.add(id(node))
        for n, (key_node, value_node) in enumerate(merged_pairs + own_pairs):
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in out and n >= len(merged_pairs):
                doc.problems.append(
                    Problem(
                        f"键 {key} 重复出现（第 {doc.lines[path + (key,)]} 行已有）",
                        f"key {key} appears twice (already on line {doc.lines[path + (key,)]})",
                        file=doc.file,
                        row=line,
                        field=format_path(path + (key,)),
                    )
                )
                continue
            doc.lines[path + (key,)] = line
            out[key] = _build(loader, value_node, path + (key,), doc, stack)
        stack.discard(id(node))
        return out
    if isinstance(node, yaml.SequenceNode):
        stack.add(id(node))
        items = [_build(loader, v, path + (i,), doc, stack) for i, v in enumerate(node.value)]
        stack.discard(id(node))
        return items
    if isinstance(node.value, str):  # a "\x01" escape: refused, as a table cell holding one is
        bad = control_problem(node.value, doc.file, node.start_mark.line + 1, format_path(path) or None)
        if bad:
            doc.problems.append(bad)
    if node.tag in _RAW_TAGS:
        return node.value
    if node.tag == _TIMESTAMP:
        try:
            return loader.construct_object(node)
        except ValueError:  # 2026-02-30: let the schema report it with its path
            return node.value
    return loader.construct_object(node)


class YamlModel(BaseModel):
    """A model read from a YAML file: remembers the line of each path for later messages."""

    model_config = ConfigDict(extra="forbid")

    _lines: dict[Path, int] = PrivateAttr(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The YAML line of ``path`` (or of its nearest parent); None if built in code."""
        return _nearest_line(self._lines, tuple(path))


def load_model(model: type[YamlModel], text: str, file: str | None, *, what_zh: str, what_en: str) -> Any:
    """Read ``text`` as YAML and validate it as ``model``; raise UserError listing every problem."""
    doc = read_yaml(text, file)
    problems = list(doc.problems)
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(
                f"{what_zh}文件应为键值映射（YAML mapping），当前为空或不是映射",
                f"a {what_en} file must be a YAML mapping; it is empty or something else",
                file=file,
                row=1,
            )
        )
    else:
        try:
            obj = model.model_validate(doc.data)
        except ValidationError as exc:
            problems.extend(_schema_problem(err, model, doc) for err in exc.errors())
    if problems:
        name = f" {file}" if file else ""
        raise UserError(
            f"{what_zh}{name} 有 {len(problems)} 处问题，未读入",
            f"{what_en}{name} has {len(problems)} problem(s); nothing was read",
            problems=problems,
        )
    obj._lines = doc.lines
    return obj


def _nearest_line(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest parent that has one (a missing key: its mapping)."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _allowed_fields(model: type[BaseModel], loc: Path) -> list[str] | None:
    """The field names of the model found at ``loc`` inside ``model`` (for 'unknown key')."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            info = tp.model_fields.get(part)
            if info is None:
                return None
            tp = info.annotation
        elif get_origin(tp) in (list, tuple) and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and isinstance(part, str):
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _schema_problem(err: Any, model: type[BaseModel], doc: YamlDoc) -> Problem:
    """One pydantic error as a bilingual Problem with a readable path and the YAML line."""
    loc: Path = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = None if isinstance(value, (dict, list)) or value is None else str(value)[:80]
    if kind == "ssj":  # our own checks carry both languages
        zh, en = ctx["zh"], ctx["en"]
    elif kind == "missing":
        zh, en, shown = "缺少必填字段", "required field is missing", None
    elif value is None and kind.endswith("_type"):  # `basis:` with nothing after it
        zh, en = "不能为空（未填写取值）", "must not be empty (no value given)"
    elif kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        hint = f"；允许的字段：{', '.join(allowed)}" if allowed else ""
        hint_en = f"; allowed: {', '.join(allowed)}" if allowed else ""
        zh, en, shown = f"未知字段 {loc[-1]}（拼写错误？）{hint}", f"unknown field {loc[-1]} (misspelt?){hint_en}", None
    elif kind in ("string_type", "string_sub_type"):
        zh, en = "应为文本", "must be text"
    elif kind == "string_too_short":
        zh, en = "不能为空", "must not be empty"
    elif kind == "too_short":
        zh, en = f"至少需要 {ctx.get('min_length', 1)} 项", f"needs at least {ctx.get('min_length', 1)} element(s)"
        shown = None
    elif kind in ("list_type", "tuple_type"):
        zh, en = "应为列表", "must be a list"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        zh, en = "应为键值映射", "must be a mapping of keys to values"
    elif kind.startswith("date"):
        zh, en = "应为日期，格式 YYYY-MM-DD", "must be a date, YYYY-MM-DD"
    elif kind.startswith("int"):
        zh, en = "应为整数", "must be a whole number"
    elif kind.startswith("bool"):
        zh, en = "应为 true 或 false", "must be true or false"
    elif kind.startswith("decimal") or kind.startswith("finite_number"):
        zh, en = "应为数值（如 0.05 或 \"5%\"）", 'must be a number (e.g. 0.05 or "5%")'
    elif kind == "literal_error":
        zh, en = f"取值应为以下之一：{ctx.get('expected')}", f"must be one of: {ctx.get('expected')}"
    else:
        zh, en = f"取值无效（{err['msg']}）", f"invalid value ({err['msg']})"
    return Problem(zh, en, file=doc.file, row=_nearest_line(doc.lines, loc), field=format_path(loc) or None, value=shown)


def custom_error(zh: str, en: str) -> PydanticCustomError:
    """A validation error carrying both languages (mapped back by ``load_model``)."""
    return PydanticCustomError("ssj", "{en}", {"zh": zh, "en": en})


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
