"""The two directories (第五条): 检查对象名录库 and 执法检查人员名录库.

Vocabularies and the per-row rules that turn a row of a user's file into a canonical
record, or say precisely what is wrong with it. Pure: no store, no files.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Callable

from shuangsuiji.domain import uscc as uscc_rules

# ---------------------------------------------------------------- headers
# Each file may use the English or the Chinese headers; keys are compared via table_reader.header_key.
ENTITY_HEADERS = {
    "uscc": "uscc", "统一社会信用代码": "uscc", "信用代码": "uscc",
    "name": "name", "名称": "name", "企业名称": "name", "主体名称": "name",
    "entity_type": "entity_type", "主体类型": "entity_type", "市场主体类型": "entity_type",
    "industry": "industry", "行业": "industry",
    "region": "region", "所属区域": "region",
    "address": "address", "住所": "address", "住所（经营场所）": "address",
    "status": "status", "登记状态": "status",
    "risk_class": "risk_class", "信用风险分类": "risk_class", "信用风险等级": "risk_class",
    "registered_on": "registered_on", "成立日期": "registered_on",
}
ENTITY_REQUIRED = ("uscc", "name", "status")
ENTITY_FIELDS = (
    "uscc", "name", "entity_type", "industry", "region", "address", "status", "risk_class", "registered_on",
)

INSPECTOR_HEADERS = {
    "cert_no": "cert_no", "执法证号": "cert_no", "执法证编号": "cert_no",
    "name": "name", "姓名": "name",
    "department": "department", "所属部门": "department", "部门": "department",
    "cert_expires_on": "cert_expires_on", "执法证有效期": "cert_expires_on", "有效期至": "cert_expires_on",
    "expertise": "expertise", "业务专长": "expertise", "执法事项清单范围": "expertise",
    "region": "region", "岗位管辖片区": "region", "管辖片区": "region",
    "status": "status", "状态": "status",
}
INSPECTOR_REQUIRED = ("cert_no", "name", "department", "cert_expires_on")

CONFLICT_HEADERS = {
    "cert_no": "cert_no", "执法证号": "cert_no",
    "uscc": "uscc", "统一社会信用代码": "uscc",
    "reason": "reason", "回避原因": "reason", "原因": "reason",
}
CONFLICT_REQUIRED = ("cert_no", "uscc")

DEPARTMENT_HEADERS = {"code": "code", "代码": "code", "部门代码": "code", "name": "name", "名称": "name", "部门名称": "name"}

# ---------------------------------------------------------------- vocabularies
# 登记状态. Only 存续/在业 entities are drawn (第九条; docs/file-formats.md, the statuses).
STATUSES = ("存续", "在业", "吊销", "注销", "撤销", "迁出")
DRAWABLE_STATUSES = ("存续", "在业")
_STATUS_ALIASES = {
    "存续": "存续", "存续（在营、开业、在册）": "存续", "在营": "存续", "开业": "存续", "在册": "存续",
    "正常": "存续", "active": "存续",
    "在业": "在业", "operating": "在业",
    "吊销": "吊销", "吊销，未注销": "吊销", "吊销未注销": "吊销", "已吊销": "吊销", "revoked": "吊销",
    "注销": "注销", "已注销": "注销", "吊销，已注销": "注销", "deregistered": "注销",
    "撤销": "撤销", "撤销登记": "撤销", "已撤销": "撤销", "cancelled": "撤销",
    "迁出": "迁出", "已迁出": "迁出", "moved_out": "迁出",
}

# 信用风险分类 (国市监信发〔2022〕6号, 第四条): A low, B normal, C higher, D high.
RISK_CLASSES = ("A", "B", "C", "D")
RISK_NAMES = {"A": "低风险", "B": "一般风险", "C": "较高风险", "D": "高风险"}
_RISK_ALIASES = {
    "a": "A", "低风险": "A", "信用风险低": "A", "低": "A", "a类": "A",
    "b": "B", "一般风险": "B", "信用风险一般": "B", "一般": "B", "b类": "B",
    "c": "C", "较高风险": "C", "信用风险较高": "C", "较高": "C", "c类": "C",
    "d": "D", "高风险": "D", "信用风险高": "D", "高": "D", "d类": "D",
}

# Officer availability. Only 在岗 officers are drawn (第十条).
INSPECTOR_STATUSES = ("在岗", "休假", "借调", "停止执法", "调离")
AVAILABLE_STATUS = "在岗"
_INSPECTOR_STATUS_ALIASES = {
    "在岗": "在岗", "正常": "在岗", "available": "在岗",
    "休假": "休假", "请假": "休假", "病假": "休假", "on_leave": "休假",
    "借调": "借调", "seconded": "借调",
    "停止执法": "停止执法", "暂停执法": "停止执法", "suspended": "停止执法",
    "调离": "调离", "离职": "调离", "退休": "调离", "left": "调离",
}

_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{0,31}$")
_CERT_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,31}$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TAG_SPLIT = re.compile(r"[;；、,，|]")
_SPACES = {ord(c): None for c in " \t\r\n\u3000\u00a0\u200b\ufeff"}


@dataclass(frozen=True)
class Invalid:
    """Why one field of one row is invalid; the importer adds file and row."""

    field: str
    zh: str
    en: str
    value: str


def _key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower().replace(" ", "")


def clean(value: str) -> str:
    """Text as stored: NFKC (full-width letters and digits to ASCII) and trimmed."""
    if not value:
        return ""
    return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()


def normalise_status(value: str) -> str | None:
    return _STATUS_ALIASES.get(_key(value).replace(",", "，").replace("(", "（").replace(")", "）"))


def normalise_risk(value: str) -> str | None:
    return _RISK_ALIASES.get(_key(value))


def normalise_inspector_status(value: str) -> str | None:
    return _INSPECTOR_STATUS_ALIASES.get(_key(value))


def parse_date(value: str) -> str | None:
    """ISO text of a date written as 2020-01-05, 2020/1/5, 2020.1.5, 2020年1月5日 or 20200105."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    value = value.strip()
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        value = value[:10]
        try:
            date.fromisoformat(value)  # validates; the text is already canonical
            return value
        except ValueError:
            return None
    elif len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    else:
        m = _DATE_RE.match(value)
        if not m:
            return None
        value = f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def normalise_uscc(value: str) -> str:
    return uscc_rules.normalise(value)


def uscc_invalid(code: str, field: str = "uscc") -> Invalid | None:
    """GB 32100-2015: 18 characters from the 31-symbol alphabet with a valid check character."""
    problem = uscc_rules.problem(code)
    if problem is None:
        return None
    zh, en = {
        "length": ("统一社会信用代码应为 18 位", "a unified social credit code has 18 characters"),
        "alphabet": (
            "统一社会信用代码含有不允许的字符（不能有 I、O、Z、S、V）",
            "the code has a character outside GB 32100's alphabet (no I, O, Z, S, V)",
        ),
        "check_digit": ("统一社会信用代码校验位错误", "the code's check character (GB 32100) is wrong"),
    }[problem]
    if problem != "check_digit" and "E+" in code:
        zh += "；Excel 可能把它当成了数字，请把该列设为文本格式"
        en += "; Excel may have turned it into a number: format the column as text"
    return Invalid(field, zh, en, code)


# Entity record: (uscc, name, entity_type, industry, region, address, status, risk_class,
#                 registered_on, attributes JSON) — the column order of the store's entity table.
EntityRecord = tuple[str, str, str, str, str, str, str, "str | None", "str | None", str]


class _Memo(dict):
    """value -> fn(value), computed once per distinct value; a hit is a plain dict lookup in C."""

    def __init__(self, fn: Callable[[str], str]):
        self.fn = fn

    def __missing__(self, value: str) -> str:
        out = self[value] = self.fn(value)
        return out


def entity_parser(
    index: dict[str, int], extras: list[tuple[str, int]], rows: list[list[str]]
) -> Callable[[int, list[str]], EntityRecord | Invalid]:
    """A function turning row ``i`` (its values) into a canonical entity record, or what is wrong.

    Built once per file (or per batch of one), because it runs a million times for a large
    directory: column positions are resolved once, the codes are checked for all the rows at
    once, and the few distinct values of type, industry and region are normalised once each.
    """
    absent = max([*index.values(), *(i for _, i in extras)], default=0) + 1  # reads as ""
    iu, iname, istatus = index["uscc"], index["name"], index["status"]
    itype, iind, ireg, iaddr, irisk, idate = optional = tuple(
        index.get(f, absent) for f in ("entity_type", "industry", "region", "address", "risk_class", "registered_on")
    )
    width = absent + 1
    # Rows are padded to `width` only when they must be: when short, or when an optional column is
    # missing from the file and is read from the extra slot (measured: 0.3 s of a million rows).
    pad_all = absent in optional
    statuses, risks, nfkc = _STATUS_ALIASES, RISK_NAMES, unicodedata.normalize
    code_ok = uscc_rules.valid_mask([v[iu] if len(v) > iu else "" for v in rows])
    few = _Memo(clean)  # a dict lookup per value, not a Python call (measured: 0.05 s of a million rows)
    dates = _Memo(parse_date)  # a directory has a few thousand distinct dates (measured: 0.5 s of a million rows)

    def parse(i: int, values: list[str]) -> EntityRecord | Invalid:
        if len(values) < absent or (pad_all and len(values) != width):
            values = (values + [""] * width)[:width]
            values[-1] = ""
        if code_ok[i]:
            code = values[iu]
        else:
            code = uscc_rules.normalise(values[iu])
            bad = uscc_invalid(code)
            if bad:
                return bad
        name = values[iname]  # clean(), inlined: it runs twice a row
        name = name.strip() if name.isascii() else nfkc("NFKC", name).strip()
        if not name:
            return Invalid("name", "名称不能为空", "name is empty", "")
        raw_status = values[istatus]
        status = statuses.get(raw_status) or normalise_status(raw_status)
        if status is None:
            return Invalid(
                "status", f"未知的登记状态（可用：{'、'.join(STATUSES)}）",
                f"unknown status (known: {', '.join(STATUSES)})", raw_status,
            )
        raw_risk = values[irisk]
        risk = None
        if raw_risk:
            risk = raw_risk if raw_risk in risks else normalise_risk(raw_risk)
            if risk is None and raw_risk.strip():
                return Invalid(
                    "risk_class", "未知的信用风险分类（A/B/C/D 或 低风险/一般风险/较高风险/高风险）",
                    "unknown credit-risk class (A/B/C/D or 低风险/一般风险/较高风险/高风险)", raw_risk,
                )
        raw_date = values[idate]
        registered = None
        if raw_date:
            registered = dates[raw_date]
            if registered is None and raw_date.strip():
                return Invalid("registered_on", "日期格式无法识别（例：2020-01-05）", "unreadable date (e.g. 2020-01-05)", raw_date)
        attrs = {h: values[i] for h, i in extras if values[i] != ""} if extras else None
        address = values[iaddr]
        return (
            code, name, few[values[itype]], few[values[iind]], few[values[ireg]],
            address.strip() if address.isascii() else nfkc("NFKC", address).strip(),
            status, risk, registered,
            json.dumps(attrs, ensure_ascii=False, sort_keys=True) if attrs else "{}",
        )

    return parse


def normalise_cert(value: str) -> str:
    return unicodedata.normalize("NFKC", value).translate(_SPACES).upper()


def cert_invalid(cert: str, field: str = "cert_no") -> Invalid | None:
    if _CERT_RE.match(cert):
        return None
    return Invalid(
        field, "执法证号应为 4–32 位字母、数字或连字符", "a certificate number has 4–32 letters, digits or hyphens", cert
    )


def normalise_department_code(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().upper()


def department_code_invalid(code: str, field: str = "code") -> Invalid | None:
    if _CODE_RE.match(code):
        return None
    return Invalid(
        field, "部门代码应为大写字母开头的字母、数字（最多 32 位）",
        "a department code is letters and digits starting with a letter (at most 32)", code,
    )


# Inspector record: (cert_no, name, department, cert_expires_on, expertise JSON, region, status,
#                    attributes JSON) — the column order of the store's inspector table.
InspectorRecord = tuple[str, str, str, str, str, str, str, str]


def parse_inspector(fields: dict[str, str], attrs: dict[str, str], departments: set[str]) -> InspectorRecord | Invalid:
    """A canonical officer record from one row, or the first thing wrong with it (第十条)."""
    cert = normalise_cert(fields["cert_no"])
    bad = cert_invalid(cert)
    if bad:
        return bad
    name = clean(fields["name"])
    if not name:
        return Invalid("name", "姓名不能为空", "name is empty", "")
    dept = normalise_department_code(fields["department"])
    if dept not in departments:
        return Invalid(
            "department", "部门代码不存在（先用 departments import 导入部门）",
            "unknown department code (import it first with `departments import`)", fields["department"],
        )
    expires = parse_date(fields["cert_expires_on"])
    if expires is None:
        return Invalid(
            "cert_expires_on", "执法证有效期无法识别（例：2028-12-31）",
            "unreadable certificate expiry date (e.g. 2028-12-31)", fields["cert_expires_on"],
        )
    tags = sorted({clean(t) for t in _TAG_SPLIT.split(fields.get("expertise", "")) if clean(t)})
    raw_status = fields.get("status", "")
    status = normalise_inspector_status(raw_status) if raw_status.strip() else AVAILABLE_STATUS
    if status is None:
        return Invalid(
            "status", f"未知的人员状态（可用：{'、'.join(INSPECTOR_STATUSES)}）",
            f"unknown availability status (known: {', '.join(INSPECTOR_STATUSES)})", raw_status,
        )
    return (
        cert,
        name,
        dept,
        expires,
        json.dumps(tags, ensure_ascii=False),
        clean(fields.get("region", "")),
        status,
        json.dumps(attrs, ensure_ascii=False, sort_keys=True) if attrs else "{}",
    )
