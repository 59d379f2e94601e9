"""YAML documents with line numbers, and pydantic models read from them.

The reader keeps the line of every key, so that schema and rule problems name ``file``,
``row`` and a readable ``field`` path such as ``entries[3].items[0].basis``. The checklist
(checklist.py), the plan (plan.py), ad hoc tasks (task.py) and departments files are read
with it. Pure: text in, models or named problems out.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError
from pydantic_core import PydanticCustomError

from shuangsuiji.errors import Problem, UserError
from shuangsuiji.table_reader import control_problem, limit

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
