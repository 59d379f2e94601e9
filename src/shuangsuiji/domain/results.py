"""Inspection results (第十二条 to 第十四条, 第十六条): vocabularies and the rules of one result row.

Pure: no store, no files. A row of a filled-in template (or of ``results record``) is turned
into a canonical :class:`ResultRecord`, or into every :class:`Problem` it has, each naming the
file/sheet, row and column so the user can fix them all in one pass. ``docs/results.md``
documents the columns, the vocabularies and every rule below.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence

from shuangsuiji.domain.directory import clean, normalise_uscc, parse_date
from shuangsuiji.errors import Problem

# ---------------------------------------------------------------- result categories
# Standard categories as on the real platforms (docs/results.md "Result categories"); several may apply at once.
CATEGORIES: tuple[str, ...] = (
    "未发现问题",
    "发现问题待后续处理",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况、弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "发现问题已责令改正",
    "未发现开展本次抽查涉及的经营活动",
    "已关闭停业或正在组织清算",
    "不配合检查情节严重",
    "注销",
    "被吊销",
    "被撤销",
    "迁出",
)

NO_PROBLEM = "未发现问题"
UNREACHABLE = "通过登记的住所（经营场所）无法联系"

# 第十四条(三), 第十六条: the categories that are NOT a problem. Everything else is, and opens a
# follow-up (a status change such as 注销 or 迁出 still has to reach the responsible department).
NOT_A_PROBLEM: frozenset[str] = frozenset({"未发现问题", "未发现开展本次抽查涉及的经营活动"})
PROBLEM_CATEGORIES: frozenset[str] = frozenset({
    "发现问题待后续处理",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况、弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "发现问题已责令改正",
    "已关闭停业或正在组织清算",
    "不配合检查情节严重",
    "注销",
    "被吊销",
    "被撤销",
    "迁出",
})

# Wording drifts between platforms: alias → canonical label. Keys are compared by _key().
CATEGORY_ALIASES: dict[str, str] = {
    **{c: c for c in CATEGORIES},
    "发现问题经责令已改正": "发现问题已责令改正",
    "发现问题经责令改正": "发现问题已责令改正",
    "已责令改正": "发现问题已责令改正",
    "不予配合情节严重": "不配合检查情节严重",
    "不配合检查": "不配合检查情节严重",
    "通过登记的住所无法联系": UNREACHABLE,
    "通过登记的经营场所无法联系": UNREACHABLE,
    "通过登记的住所或经营场所无法联系": UNREACHABLE,
    "住所无法联系": UNREACHABLE,
    "无法联系": UNREACHABLE,
    "未发现开展本次抽查所涉及的经营活动": "未发现开展本次抽查涉及的经营活动",
    "未开展本次抽查涉及的经营活动": "未发现开展本次抽查涉及的经营活动",
    "公示信息隐瞒真实情况弄虚作假": "公示信息隐瞒真实情况、弄虚作假",
    "未按规定公示应当公示信息": "未按规定公示应当公示的信息",
    "已关闭停业": "已关闭停业或正在组织清算",
    "正在组织清算": "已关闭停业或正在组织清算",
    "已注销": "注销",
    "吊销": "被吊销",
    "已吊销": "被吊销",
    "撤销": "被撤销",
    "已撤销": "被撤销",
    "已迁出": "迁出",
    "正常": "未发现问题",
    "无问题": "未发现问题",
}

# ---------------------------------------------------------------- signature (第十四条)
SIGNED, REFUSED, UNOBTAINABLE = "签字", "拒签", "无法取得"
SIGNATURES: tuple[str, ...] = (SIGNED, REFUSED, UNOBTAINABLE)
SIGNATURE_ALIASES: dict[str, str] = {
    **{s: s for s in SIGNATURES},
    "已签字": SIGNED, "签字确认": SIGNED, "盖章": SIGNED, "签字盖章": SIGNED, "签章": SIGNED, "已签章": SIGNED,
    "signed": SIGNED,
    "拒绝签字": REFUSED, "拒不签字": REFUSED, "拒签字": REFUSED, "refused": REFUSED,
    "无法取得签字": UNOBTAINABLE, "无法签字": UNOBTAINABLE, "未能取得签字": UNOBTAINABLE, "unobtainable": UNOBTAINABLE,
}

# ---------------------------------------------------------------- follow-up measures (第十四条(三), 第十六条)
NO_MEASURE = "无需处置"
JUDICIAL = "移送司法机关"
MEASURES: tuple[str, ...] = (NO_MEASURE, "责令改正", "移交线索", "抄告主管部门", JUDICIAL, "其他")
MEASURE_ALIASES: dict[str, str] = {
    **{m: m for m in MEASURES},
    "无": NO_MEASURE, "不需处置": NO_MEASURE, "无需": NO_MEASURE, "无需后续处置": NO_MEASURE,
    "责令整改": "责令改正", "限期改正": "责令改正",
    "移交案件线索": "移交线索", "移交违法线索": "移交线索",
    "抄告": "抄告主管部门", "抄告相关部门": "抄告主管部门", "通报主管部门": "抄告主管部门",
    "移送司法": JUDICIAL, "移送公安机关": JUDICIAL, "涉嫌犯罪移送": JUDICIAL,
}

# Check methods (docs/results.md "The template"): the same method is written several ways; compared canonically.
_METHOD_CANON: dict[str, str] = {"实地核查": "实地检查", "现场检查": "实地检查", "网络检查": "网络监测"}

PUBLISH_YES = ("是", "公示", "y", "yes", "true", "1")
PUBLISH_NO = ("否", "不公示", "n", "no", "false", "0")

# ---------------------------------------------------------------- follow-up statuses
FOLLOWUP_STATUSES: dict[str, str] = {
    "open": "待处置",
    "in_progress": "处置中",
    "closed": "已办结",
    "cancelled": "已撤销",  # only automatic: the result was corrected and no longer calls for one
}
_STATUS_ALIASES = {
    **{k: k for k in FOLLOWUP_STATUSES}, **{v: k for k, v in FOLLOWUP_STATUSES.items()},
    "in-progress": "in_progress", "progress": "in_progress", "处理中": "in_progress", "办理中": "in_progress",
    "待处理": "open", "未办结": "open", "办结": "closed", "已处置": "closed", "done": "closed",
}
# Allowed by `followups update` (cancelled is set only by a corrected result).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "closed"}),
    "in_progress": frozenset({"open", "closed"}),
    "closed": frozenset({"in_progress"}),  # re-opened: needs a note saying why
    "cancelled": frozenset(),
}

# ---------------------------------------------------------------- template / import columns
# (field, Chinese header). Order = template column order; `key` is the hidden last column.
PREFILLED: tuple[tuple[str, str], ...] = (
    ("no", "序号"),
    ("uscc", "统一社会信用代码"),
    ("name", "企业名称"),
    ("address", "住所"),
    ("item", "检查事项编号"),
    ("item_name", "检查事项"),
    ("team", "检查小组（组长在前）"),
)
INPUT: tuple[tuple[str, str], ...] = (
    ("result", "检查结果"),
    ("method", "检查方式"),
    ("date", "检查日期"),
    ("signature", "签字情况"),
    ("reason", "拒签原因"),
    ("witness", "见证人"),
    ("followup", "后续处置"),
    ("publish", "是否公示"),
    ("no_publish_reason", "不公示理由"),
    ("note", "备注"),
    ("split_reason", "分次检查理由"),
)
KEY = ("key", "行键")
HEADERS: dict[str, str] = dict(PREFILLED + INPUT + (KEY,))

# Import headers (compared via table_reader.header_key): the template's, English keys, common variants.
IMPORT_HEADERS: dict[str, str] = {
    **{zh: f for f, zh in HEADERS.items()}, **{f: f for f in HEADERS},
    "信用代码": "uscc", "名称": "name", "市场主体名称": "name", "住所（经营场所）": "address",
    "抽查事项编号": "item", "事项编号": "item", "item_id": "item", "抽查事项": "item_name",
    "检查小组": "team", "抽查结果": "result", "检查时间": "date", "抽查日期": "date",
    "签字": "signature", "签章情况": "signature", "未签字原因": "reason", "无法取得签字原因": "reason",
    "后续处置措施": "followup", "处置措施": "followup", "公示": "publish", "不予公示理由": "no_publish_reason",
    "分次检查原因": "split_reason",
}
IMPORT_REQUIRED = ("result",)

_SPLIT_CATEGORIES = re.compile(r"[;；\n]")
_SPLIT_METHODS = re.compile(r"[;；、,，\n/]")


def _key(value: str) -> str:
    """Compared without width, spaces or parenthesis style: （）and () alike."""
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


_CATEGORY_KEYS = {_key(k): v for k, v in CATEGORY_ALIASES.items()}
_SIGNATURE_KEYS = {_key(k): v for k, v in SIGNATURE_ALIASES.items()}
_MEASURE_KEYS = {_key(k): v for k, v in MEASURE_ALIASES.items()}
_STATUS_KEYS = {_key(k): v for k, v in _STATUS_ALIASES.items()}


def normalise_category(value: str) -> str | None:
    return _CATEGORY_KEYS.get(_key(value))


def normalise_signature(value: str) -> str | None:
    return _SIGNATURE_KEYS.get(_key(value))


def normalise_measure(value: str) -> str | None:
    return _MEASURE_KEYS.get(_key(value))


def normalise_status(value: str) -> str | None:
    return _STATUS_KEYS.get(_key(value))


def method_key(value: str) -> str:
    k = _key(value)
    return _METHOD_CANON.get(k, k)


def parse_categories(value: str) -> tuple[tuple[str, ...], list[str]]:
    """(canonical categories in canonical order, unknown parts) of a ；/;-separated cell."""
    found, unknown = set(), []
    for part in _SPLIT_CATEGORIES.split(value):
        if not part.strip():
            continue
        canonical = normalise_category(part)
        if canonical is None:
            unknown.append(part.strip())
        else:
            found.add(canonical)
    return tuple(c for c in CATEGORIES if c in found), unknown


def is_problem(categories: Sequence[str]) -> bool:
    return any(c in PROBLEM_CATEGORIES for c in categories)


def needs_followup(categories: Sequence[str], measure: str | None) -> bool:
    """第十四条(三), 第十六条: a problem found, or a measure other than 无需处置, is followed up."""
    return is_problem(categories) or (measure is not None and measure != NO_MEASURE)


def handed_to(measure: str | None, department: str) -> str:
    """Who takes the follow-up: the judicial authorities (第十六条 涉嫌犯罪), else the item's department
    ("谁主管、谁监管"); `followups update --handed-to` can reassign it."""
    return JUDICIAL if measure == JUDICIAL else department


# ---------------------------------------------------------------- one row


@dataclass(frozen=True)
class Scope:
    """What a row is checked against: the locked list, the task's items, the window."""

    draw_id: str
    entities: Mapping[str, str]  # uscc → name, the locked list (第九条)
    items: Mapping[str, Mapping]  # item id → task item {id, name, department, methods, …}
    window: tuple[str, str]  # ISO dates, inclusive
    department: str | None = None  # --dept: only this department's items
    today: str | None = None  # ISO date: no result may be dated after it


@dataclass(frozen=True)
class ResultRecord:
    """One canonical result: (draw, entity, item) and what was found."""

    uscc: str
    item: str
    department: str
    categories: tuple[str, ...]
    methods: tuple[str, ...]
    inspected_on: str
    signature: str | None = None
    signature_reason: str | None = None
    witness: str | None = None
    followup: str | None = None
    publish: bool = True
    no_publish_reason: str | None = None
    note: str | None = None
    split_reason: str | None = None  # 第十二条: why this entity was not done in one visit

    @property
    def problem(self) -> bool:
        return is_problem(self.categories)

    @property
    def needs_followup(self) -> bool:
        return needs_followup(self.categories, self.followup)

    def stored(self) -> dict[str, str | int | None]:
        """The values as stored (and compared for history): text, lists joined with ；."""
        return {
            "categories": "；".join(self.categories),
            "methods": "；".join(self.methods),
            "inspected_on": self.inspected_on,
            "signature": self.signature,
            "signature_reason": self.signature_reason,
            "witness": self.witness,
            "followup": self.followup,
            "publish": int(self.publish),
            "no_publish_reason": self.no_publish_reason,
            "note": self.note,
            "split_reason": self.split_reason,
        }


STORED_FIELDS = ("categories", "methods", "inspected_on", "signature", "signature_reason", "witness", "followup",
                 "publish", "no_publish_reason", "note", "split_reason")


def signed(signature: str | None, reason: str | None, witness: str | None) -> bool:
    """第十四条: a result is complete only when the entity signed (or sealed) it, or its refusal
    (or a signature that could not be obtained) is recorded with the reason and a witness."""
    if signature == SIGNED:
        return True
    return signature in (REFUSED, UNOBTAINABLE) and bool(reason) and bool(witness)


def split_visits(new: Sequence[ResultRecord], stored: Mapping[tuple[str, str], str]) -> list[tuple[int, str]]:
    """第十二条 "对同一被检查对象要一次性完成检查任务中所有内容的检查工作" (进一次门、查多项事).

    An entity's visit date is the earliest date of its results already stored (any department;
    results these records replace do not count), else the earliest among these records. Returns
    (index, visit date) of every record dated otherwise that gives no split reason."""
    replaced = {(r.uscc, r.item) for r in new}
    visit: dict[str, str] = {}
    for (uscc, item), day in stored.items():
        if (uscc, item) not in replaced:
            visit[uscc] = min(day, visit.get(uscc, day))
    first: dict[str, str] = {}
    for r in new:
        first[r.uscc] = min(r.inspected_on, first.get(r.uscc, r.inspected_on))
    for uscc, day in first.items():
        visit.setdefault(uscc, day)
    return [(i, visit[r.uscc]) for i, r in enumerate(new) if r.inspected_on != visit[r.uscc] and not r.split_reason]


@dataclass
class RowCheck:
    """Where the row is (for messages) and how its columns are named to the user."""

    file: str | None
    row: int | None
    labels: Mapping[str, str] = field(default_factory=lambda: dict(HEADERS))
    problems: list[Problem] = field(default_factory=list)

    def add(self, name: str, zh: str, en: str, value: str | None = None) -> None:
        self.problems.append(Problem(zh, en, file=self.file, row=self.row, field=self.labels.get(name, name), value=value))


def parse_key(value: str) -> tuple[str, str, str] | None:
    """The hidden row key ``DRAW|USCC|ITEM`` of a template row."""
    parts = value.strip().split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def make_key(draw_id: str, uscc: str, item: str) -> str:
    return f"{draw_id}|{uscc}|{item}"


def is_blank(fields: Mapping[str, str]) -> bool:
    """A template row nobody has filled in yet: it is skipped, not an error."""
    return not any((fields.get(name) or "").strip() for name, _ in INPUT)


def check_row(fields: Mapping[str, str], scope: Scope, at: RowCheck) -> ResultRecord | None:
    """The record of one row, or None with every problem of the row added to ``at.problems``."""
    before = len(at.problems)
    text = {k: clean(v or "") for k, v in fields.items()}
    uscc, item_id = _identify(text, scope, at)
    item = scope.items.get(item_id) if item_id else None

    # 检查结果: standard categories (aliases accepted), several separated by ；
    categories: tuple[str, ...] = ()
    if not text.get("result"):
        at.add("result", "缺少检查结果", "the result is missing")
    else:
        categories, unknown = parse_categories(text["result"])
        for part in unknown:
            at.add("result", f"未知的检查结果分类（可选：{'、'.join(CATEGORIES)}；多个用“；”分隔）",
                   f"unknown result category (standard: {', '.join(CATEGORIES)}; separate several with ；)", part)
        if NO_PROBLEM in categories and len(categories) > 1:
            at.add("result", "“未发现问题”不能与其他结果同时填写", "未发现问题 cannot be combined with another category",
                   text["result"])

    # 检查方式 (第十三条: the task's methods for the item)
    methods: tuple[str, ...] = ()
    if item is not None:
        allowed = {method_key(m): m for m in item.get("methods") or []}
        given = [p.strip() for p in _SPLIT_METHODS.split(text.get("method", "")) if p.strip()]
        if not given:
            if len(allowed) == 1:
                methods = tuple(allowed.values())
            else:
                at.add("method", f"缺少检查方式（本事项可用：{'、'.join(allowed.values())}）",
                       f"the check method is missing (this item allows: {', '.join(allowed.values())})")
        else:
            picked = []
            for part in given:
                m = allowed.get(method_key(part))
                if m is None:
                    at.add("method", f"不是本事项的检查方式（可用：{'、'.join(allowed.values())}）",
                           f"not a method of this item (allowed: {', '.join(allowed.values())})", part)
                elif m not in picked:
                    picked.append(m)
            methods = tuple(m for m in allowed.values() if m in picked)

    # 检查日期: a readable date inside the task's window
    inspected_on = ""
    raw_date = text.get("date", "")
    if not raw_date:
        at.add("date", "缺少检查日期", "the inspection date is missing")
    else:
        inspected_on = parse_date(raw_date) or ""
        start, end = scope.window
        if not inspected_on:
            at.add("date", "无法识别的日期（如 2026-07-15）", "unreadable date (e.g. 2026-07-15)", raw_date)
        elif not start <= inspected_on <= end:
            at.add("date", f"检查日期不在任务实施期间 {start} 至 {end} 内", f"the date is outside the task window {start} to {end}",
                   raw_date)
        if inspected_on and scope.today and inspected_on > scope.today:
            at.add("date", f"检查日期晚于今天（{scope.today}）：只能录入已经进行的检查", f"the date is after today ({scope.today}): "
                   "only an inspection that has taken place can be recorded", raw_date)

    # 签字情况 (第十四条): signed, or refused / not obtainable with the reason noted
    signature = None
    if text.get("signature"):
        signature = normalise_signature(text["signature"])
        if signature is None:
            at.add("signature", f"签字情况应为 {' / '.join(SIGNATURES)}", f"the signature must be {' / '.join(SIGNATURES)}",
                   text["signature"])
    reason = text.get("reason") or None
    if signature in (REFUSED, UNOBTAINABLE) and not reason:
        at.add("reason", f"签字情况为“{signature}”时须注明原因（第十四条）",
               f"a signature marked {signature} needs the reason (第十四条)")
    witness = text.get("witness") or None
    if UNREACHABLE in categories and not witness:
        at.add("witness", "“无法联系”的结论须有见证人（见证记录，第十四条）",
               "an 无法联系 (unreachable at the registered address) finding needs a witness (第十四条)")

    # 后续处置
    measure = None
    if text.get("followup"):
        measure = normalise_measure(text["followup"])
        if measure is None:
            at.add("followup", f"后续处置应为 {' / '.join(MEASURES)}", f"the follow-up measure must be one of {' / '.join(MEASURES)}",
                   text["followup"])
    note = text.get("note") or None
    if measure == "其他" and not note:
        at.add("note", "后续处置为“其他”时须在备注中说明", "a follow-up measure 其他 needs a note saying what")

    # 是否公示 (第十五条: everything is published unless it is not fit to be, with the reason)
    no_reason = text.get("no_publish_reason") or None
    publish = True
    flag = _key(text.get("publish", ""))
    if flag in PUBLISH_NO:
        publish = False
    elif flag and flag not in PUBLISH_YES:
        at.add("publish", "是否公示应为 是 或 否", "publish must be 是 or 否", text["publish"])
    elif not flag and no_reason:
        publish = False  # a reason not to publish says 否
    elif flag and no_reason:
        at.add("no_publish_reason", "是否公示为“是”却填写了不公示理由", "publish is 是 but a reason not to publish is given", no_reason)
    if not publish and not no_reason:
        at.add("no_publish_reason", "不公示须说明理由（第十五条：依法依规不适合公开的情形）",
               "not publishing needs the reason (第十五条: only what is not fit to be published is withheld)")

    if len(at.problems) > before or uscc is None or item is None:
        return None
    return ResultRecord(
        uscc=uscc, item=item["id"], department=item["department"], categories=categories, methods=methods,
        inspected_on=inspected_on, signature=signature, signature_reason=reason, witness=witness, followup=measure,
        publish=publish, no_publish_reason=no_reason if not publish else None, note=note,
        split_reason=text.get("split_reason") or None,
    )


def _identify(text: Mapping[str, str], scope: Scope, at: RowCheck) -> tuple[str | None, str | None]:
    """The (entity, item) of a row: from the hidden key when present, else the visible codes."""
    uscc = normalise_uscc(text["uscc"]) if text.get("uscc") else None
    item_id = text.get("item", "").strip().upper() or None
    if text.get("key"):
        key = parse_key(text["key"])
        if key is None:
            at.add("key", "行键无法识别（请勿修改隐藏的行键列）", "unreadable row key (do not edit the hidden key column)", text["key"])
            return None, None
        draw_id, key_uscc, key_item = key
        if draw_id != scope.draw_id:
            at.add("key", f"此行属于抽取 {draw_id}，不是 {scope.draw_id}", f"this row belongs to draw {draw_id}, not {scope.draw_id}",
                   text["key"])
            return None, None
        if uscc is not None and uscc != key_uscc:
            at.add("uscc", f"统一社会信用代码被改动（行键为 {key_uscc}）：请恢复原值",
                   f"the code was edited (the row key says {key_uscc}): restore it", text["uscc"])
        if item_id is not None and item_id != key_item:
            at.add("item", f"检查事项编号被改动（行键为 {key_item}）：请恢复原值",
                   f"the item id was edited (the row key says {key_item}): restore it", text["item"])
        uscc, item_id = key_uscc, key_item
    if uscc is None:
        at.add("uscc", "缺少统一社会信用代码", "the unified social credit code is missing")
    elif uscc not in scope.entities:
        at.add("uscc", f"不在抽取 {scope.draw_id} 锁定的检查对象名单中", f"not in the locked list of draw {scope.draw_id}", uscc)
        uscc = None
    if item_id is None:
        at.add("item", "缺少检查事项编号", "the check item id is missing")
    elif item_id not in scope.items:
        at.add("item", "不是本任务的检查事项", "not a check item of this task", item_id)
        item_id = None
    elif scope.department and scope.items[item_id]["department"] != scope.department:
        owner = scope.items[item_id]["department"]
        at.add("item", f"此事项由 {owner} 负责，不是 {scope.department}（谁检查、谁录入）",
               f"this item belongs to {owner}, not {scope.department}", item_id)
        item_id = None
    return uscc, item_id
