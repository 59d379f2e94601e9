"""执法文书 of a locked draw (第十四条): the 联合抽查通知书 and the 实地检查表, as DOCX to print.

第十四条(二) lets the team hand each entity a 市场监管领域部门联合抽查通知书 before the visit,
telling it its rights and duties and what to prepare; 第十四条 asks for a 实地检查表 that
records every item, signed or sealed by the entity — or the reason it is not, with a witness
where needed. Only what the store knows is filled in (task, items, entity, team); everything
decided on the day is left as an underlined blank for hand-writing.

``gather`` reads the store (nothing is written); ``render_notice`` / ``render_checklist`` turn
one entity's data into a python-docx Document (pure, testable); ``write_notices`` /
``write_checklists`` write one file per entity and return the paths. docs/forms.md shows the
forms.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from shuangsuiji.domain.directory import normalise_uscc
from shuangsuiji.errors import UserError
from shuangsuiji.files import claim, replacing
from shuangsuiji.services import draws, tasks
from shuangsuiji.services.teams import final_teams
from shuangsuiji.table_writer import xml_text

if TYPE_CHECKING:  # python-docx is imported only when a form is rendered (fast --help)
    from docx.document import Document

# The regulation the notice cites (第十四条(二)); one place, should another county use the tool.
RULES_TITLE = "《连州市市场监管领域部门联合“双随机、一公开”抽查工作细则》"
NOTICE_TITLE = "市场监管领域部门联合抽查通知书"
CHECKLIST_TITLE = "市场监管领域部门联合抽查实地检查表"
CHINESE_NUMERALS = "一二三四五六七八九十"
BODY_FONT, TITLE_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BOX = "□"  # ticked by hand; renders in 宋体 on Word and WPS
DATE_BLANK = "______年____月____日"


def blank(width: int = 12) -> str:
    """An underlined blank for hand-writing (underscores print the same in Word, WPS and LibreOffice)."""
    return "_" * width


# ---------------------------------------------------------------- data (read from the store)


@dataclass(frozen=True)
class Officer:
    name: str
    cert_no: str
    department: str
    department_name: str
    leader: bool  # 第十一条: the 组长 is an officer of the initiating department


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    basis: str
    methods: tuple[str, ...]


@dataclass(frozen=True)
class Department:
    """An executing department and its items in the task, in the task's order."""

    code: str
    name: str
    role: str  # 发起部门 / 配合部门
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Entity:
    position: int  # 1-based, in draw order: files sort the way the list was locked
    uscc: str
    name: str
    address: str
    region: str
    team: tuple[Officer, ...] | None  # None: officers not drawn yet (draws inspectors)


@dataclass(frozen=True)
class FormData:
    draw: str
    task_id: str
    task_name: str
    window: tuple[str, str]
    initiating: str  # department names
    cooperating: tuple[str, ...]
    departments: tuple[Department, ...]  # those with items: initiating first
    entities: tuple[Entity, ...]


def gather(conn: Connection, draw_id: str, entity: str | None = None) -> FormData:
    """Everything the forms of a locked draw need; ``entity`` keeps only that entity."""
    draw = draws._locked(conn, draw_id)  # unknown or not locked: UserError
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    dept_names = dict(conn.execute(text("SELECT code, name FROM department")).all())
    officer_names = dict(conn.execute(text("SELECT cert_no, name FROM inspector")).all())
    selected = draws.selection(conn, draw_id)
    if entity is not None:
        code = normalise_uscc(entity)
        selected_one = [s for s in selected if s["uscc"] == code]
        if not selected_one:
            raise UserError(
                f"检查对象 {code} 不在 {draw_id} 的锁定名单中（用 shuangsuiji draws show {draw_id} 查看名单）",
                f"Entity {code} is not in the locked list of {draw_id} (see `shuangsuiji draws show {draw_id}`)",
            )
    positions = {s["uscc"]: i for i, s in enumerate(selected, start=1)}
    if entity is not None:
        selected = selected_one
    assignment = final_teams(conn, draw_id)
    teams = {t.entity: t for t in assignment.teams} if assignment else {}

    def name_of(code: str) -> str:
        return dept_names.get(code) or code

    order = [definition["initiating"], *definition["cooperating"]]
    with_items = {i["department"] for i in definition["items"]}
    departments = tuple(
        Department(
            code, name_of(code), "发起部门" if code == definition["initiating"] else "配合部门",
            tuple(Item(i["id"], i["name"], i["basis"], tuple(i["methods"])) for i in definition["items"] if i["department"] == code),
        )
        for code in [d for d in order if d in with_items] + sorted(with_items - set(order))
    )

    def team_of(uscc: str) -> tuple[Officer, ...] | None:
        team = teams.get(uscc)
        if team is None:
            return None
        return tuple(
            Officer(officer_names.get(m.officer, ""), m.officer, m.department, name_of(m.department), i == 0)
            for i, m in enumerate(team.members)
        )

    return FormData(
        draw=draw_id,
        task_id=draw["task_id"],
        task_name=definition["name"],
        window=(definition["window"]["start"], definition["window"]["end"]),
        initiating=name_of(definition["initiating"]),
        cooperating=tuple(name_of(c) for c in definition["cooperating"]),
        departments=departments,
        entities=tuple(
            Entity(positions[s["uscc"]], s["uscc"], s["name"] or "", s["address"] or "", s["region"] or "",
                   team_of(s["uscc"]))
            for s in selected
        ),
    )


# ---------------------------------------------------------------- rendering helpers


def chinese_date(iso: str) -> str:
    """2026-07-01 → 2026年7月1日, as official documents write dates."""
    year, month, day = iso.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def _set_fonts(rpr_parent, east_asia: str) -> None:
    """Set the East Asian font explicitly (w:eastAsia): without it Word and WPS fall back to a
    Latin theme font for Chinese text. Theme attributes would override, so they go."""
    from docx.oxml.ns import qn

    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for key in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(key), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), LATIN_FONT)


class _Doc:
    """A small writer over python-docx: A4, 宋体 body, 黑体 titles, grid tables."""

    def __init__(self, footer: str):
        from docx import Document
        from docx.shared import Cm, Pt

        self.doc = Document()
        self.Pt = Pt
        self.Cm = Cm
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)  # the template is US Letter
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(12)
        _set_fonts(normal.element, BODY_FONT)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing = 1.3
        self._footer(footer)

    def _footer(self, label: str) -> None:
        """第 X 页 共 Y 页 with the entity: loose pages of an archived form stay identifiable."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        p = self.doc.sections[0].footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for piece in (f"{label}　第 ", "PAGE", " 页 共 ", "NUMPAGES", " 页"):
            if piece in ("PAGE", "NUMPAGES"):
                field = OxmlElement("w:fldSimple")
                field.set(qn("w:instr"), piece)
                run = OxmlElement("w:r")
                size = OxmlElement("w:rPr")
                half_points = OxmlElement("w:sz")
                half_points.set(qn("w:val"), "18")
                size.append(half_points)
                run.append(size)
                t = OxmlElement("w:t")
                t.text = "1"
                run.append(t)
                field.append(run)
                p._p.append(field)
            else:
                run = p.add_run(xml_text(piece))
                run.font.size = self.Pt(9)

    def run(self, paragraph, text_: str, *, bold: bool = False, size: float | None = None, font: str | None = None):
        run = paragraph.add_run(xml_text(text_))  # a store holding a control character still writes its forms
        run.bold = bold or None
        if size:
            run.font.size = self.Pt(size)
        if font:
            _set_fonts(run._r, font)
        return run

    def title(self, text_: str, size: float = 18) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = self.Pt(6)
        self.run(p, text_, size=size, font=TITLE_FONT)

    def heading(self, text_: str) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.space_before = self.Pt(6)
        p.paragraph_format.first_line_indent = self.Pt(24)
        p.paragraph_format.keep_with_next = True  # never a heading alone at the foot of a page
        self.run(p, text_, font=TITLE_FONT)

    def para(self, *parts: str | tuple[str, bool], indent: bool = True, align: str | None = None, size: float | None = None):
        """A paragraph of plain parts and (text, bold) parts; indented two characters by default."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = self.Pt((size or 12) * 2)
        if align:
            p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        for part in parts:
            words, bold = part if isinstance(part, tuple) else (part, False)
            self.run(p, words, bold=bold, size=size)
        return p

    def table(self, widths_cm: list[float], header: list[str] | None = None, size: float = 10.5):
        """A grid table with fixed column widths; the header row repeats on every page."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        table = self.doc.add_table(rows=0, cols=len(widths_cm))
        table.style = self.doc.styles["Table Grid"]
        table.autofit = False
        self._widths = [self.Cm(w) for w in widths_cm]
        self._size = size
        for col, width in zip(table.columns, self._widths):
            col.width = width
        if header:
            cells = self.row(table, header, bold=True, center=True)
            tr_pr = cells[0]._tc.getparent().get_or_add_trPr()
            repeat = OxmlElement("w:tblHeader")
            repeat.set(qn("w:val"), "true")
            tr_pr.append(repeat)
        return table

    def row(
        self,
        table,
        values: list[str],
        *,
        spans: tuple[int, ...] | None = None,
        bold: bool = False,
        center: bool = False,
        bold_cols: tuple[int, ...] = (),
        min_height_cm: float | None = None,
    ) -> list:
        """One row; ``spans`` merges columns (one value per span), merged before filling so
        the merged cell carries no empty paragraphs; ``min_height_cm`` leaves room to write."""
        from docx.enum.table import WD_ALIGN_VERTICAL, WD_ROW_HEIGHT_RULE
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        row = table.add_row()
        if min_height_cm:
            row.height, row.height_rule = self.Cm(min_height_cm), WD_ROW_HEIGHT_RULE.AT_LEAST
        raw = row.cells
        for cell, width in zip(raw, self._widths):
            cell.width = width  # Word reads cell widths, LibreOffice the grid: set both
        spans = spans or (1,) * len(raw)
        cells, start = [], 0
        for span in spans:
            cells.append(raw[start].merge(raw[start + span - 1]) if span > 1 else raw[start])
            start += span
        for i, (cell, value) in enumerate(zip(cells, values)):
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
            for j, line in enumerate(value.split("\n")):
                p = cell.paragraphs[0] if j == 0 else cell.add_paragraph()
                p.paragraph_format.line_spacing = 1.15
                if center:
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                self.run(p, line, bold=bold or i in bold_cols, size=self._size)
        return cells


def to_bytes(document: Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _departments_text(data: FormData) -> str:
    if data.cooperating:
        return f"{data.initiating}会同{'、'.join(data.cooperating)}"
    return data.initiating


def _team_rows(entity: Entity, signature: bool) -> list[list[str]]:
    """Rows of the team table, leader first; blank rows when the officers are not drawn yet."""
    if entity.team is None:
        return [["", "", "", "", ""] + ([""] if signature else []) for _ in range(4)]
    rows = []
    for n, o in enumerate(entity.team, start=1):
        row = [str(n), "组长" if o.leader else "组员", o.name, o.department_name, o.cert_no]
        rows.append(row + ([""] if signature else []))
    return rows


NO_TEAM_NOTE = "注：本检查对象的检查小组尚未抽取，执法人员姓名、所属部门和执法证号由检查小组现场填写。"


# ---------------------------------------------------------------- 联合抽查通知书 (第十四条(二))


def render_notice(data: FormData, entity: Entity) -> Document:
    """The notice to one entity: who checks it, for what, its rights and duties, what to prepare."""
    d = _Doc(f"{entity.name}（{entity.uscc}）")
    d.title(NOTICE_TITLE)
    d.para(f"{blank(8)}〔　　　　〕{blank(4)}号", indent=False, align="center")
    d.para("")
    d.para((f"{entity.name}：", True), indent=False)
    start, end = (chinese_date(x) for x in data.window)
    d.para(
        f"根据{RULES_TITLE}，{_departments_text(data)}开展“{data.task_name}”部门联合抽查（任务编号：{data.task_id}，"
        f"抽取编号：{data.draw}）。经随机抽取，你单位（统一社会信用代码：{entity.uscc}）被确定为本次抽查的检查对象。"
        f"检查小组将于{start}至{end}期间对你单位进行检查。现将有关事项告知如下："
    )

    d.heading("一、检查事项")
    for k, dept in enumerate(data.departments):
        d.para((f"（{CHINESE_NUMERALS[k]}）{dept.name}（{dept.role}）", True))
        for n, item in enumerate(dept.items, start=1):
            d.para(f"{n}. {item.name}。检查依据：{item.basis}；检查方式：{'、'.join(item.methods)}。")

    d.heading("二、发起部门和配合部门")
    d.para(f"发起部门：{data.initiating}")
    d.para(f"配合部门：{'、'.join(data.cooperating) if data.cooperating else '无'}")

    d.heading("三、检查小组")
    table = d.table([1.2, 1.6, 2.4, 6.2, 5.2], ["序号", "职责", "姓名", "所属部门", "执法证号"])
    for values in _team_rows(entity, signature=False):
        d.row(table, values, min_height_cm=0.8 if entity.team is None else None)  # room to write
    if entity.team is None:
        d.para(NO_TEAM_NOTE, size=10.5)
    else:
        d.para("检查小组组长由发起部门的执法人员担任。执法人员如有调整更换，以现场出示的执法证件为准。", size=10.5)

    d.heading("四、检查时间")
    d.para(f"{start}至{end}期间。")
    d.para(f"具体检查日期：{DATE_BLANK}。")

    d.heading("五、你单位的权利和义务")
    for line in (
        "（一）检查时，执法人员应当主动出示执法证件；执法人员未出示执法证件的，你单位有权拒绝接受检查。",
        "（二）你单位认为执法人员与你单位有直接利害关系或者其他关系，可能影响公正检查的，有权申请其回避。",
        "（三）你单位应当如实提供与检查事项有关的资料和情况，不得隐瞒、转移、销毁或者伪造。",
        "（四）你单位应当配合检查，不得拒绝、阻碍检查；拒绝、阻碍检查的，依法承担相应的法律责任。",
    ):
        d.para(line)

    d.heading("六、需准备的资料")
    d.para("请你单位在检查时备齐以下资料（原件及复印件）：")
    for n in range(1, 6):
        d.para(f"{n}. {blank(60)}")

    d.heading("七、联系方式")
    d.para(f"联系人：{blank(14)}　联系电话：{blank(18)}")

    d.para("")
    d.para(f"发文部门：{blank(28)}（盖章）", indent=False, align="right")
    d.para(DATE_BLANK, indent=False, align="right")
    d.para("")
    d.para(f"被检查对象签收：{blank(16)}　签收日期：{DATE_BLANK}", indent=False, size=10.5)
    return d.doc


# ---------------------------------------------------------------- 实地检查表 (第十四条)


def render_checklist(data: FormData, entity: Entity) -> Document:
    """The record of one entity's inspection: every department's items, the team, the signatures."""
    d = _Doc(f"{entity.name}（{entity.uscc}）")
    d.title(CHECKLIST_TITLE)
    start, end = (chinese_date(x) for x in data.window)
    d.para(f"任务名称：{data.task_name}", indent=False, size=10.5)
    d.para(f"任务编号：{data.task_id}　抽取编号：{data.draw}", indent=False, size=10.5)
    d.para(f"检查时限：{start}至{end}", indent=False, size=10.5)
    d.para(f"发起部门：{data.initiating}　配合部门：{'、'.join(data.cooperating) if data.cooperating else '无'}",
           indent=False, size=10.5)

    d.heading("一、检查对象基本情况")
    info = d.table([4.2, 4.8, 2.8, 4.8])
    d.row(info, ["检查对象名称", entity.name], spans=(1, 3), bold_cols=(0,))
    # Not the credit-risk class (第四条): it is internal supervisory data, and the entity signs this form.
    d.row(info, ["统一社会信用代码", entity.uscc], spans=(1, 3), bold_cols=(0,))
    d.row(info, ["住所（经营场所）", entity.address or blank(30)], spans=(1, 3), bold_cols=(0,))
    d.row(info, ["所属区域", entity.region or blank(10), "检查日期", DATE_BLANK], bold_cols=(0, 2))
    d.row(info, ["法定代表人（负责人）", blank(12), "联系电话", blank(14)], bold_cols=(0, 2))

    d.heading("二、检查事项及检查情况")
    items = d.table([1.2, 3.8, 3.6, 2.4, 3.6, 2.0], ["序号", "检查事项", "检查依据", "检查方式", "检查情况", "结果"])
    n = 0
    for dept in data.departments:
        d.row(items, [f"{dept.name}（{dept.role}）"], spans=(6,), bold=True)
        for item in dept.items:
            n += 1
            d.row(items, [
                str(n), item.name, item.basis, "\n".join(f"{BOX}{m}" for m in item.methods), "",
                f"{BOX}符合\n{BOX}不符合\n{BOX}不适用",
            ], min_height_cm=2.0)
    d.para("发现的问题及处理措施：", indent=False).paragraph_format.space_before = d.Pt(6)
    for _ in range(3):
        d.para(blank(76), indent=False)

    d.heading("三、检查小组")
    if entity.team is None:
        d.para(NO_TEAM_NOTE, size=10.5)
    team = d.table([1.2, 1.4, 2.2, 4.6, 3.4, 3.8], ["序号", "职责", "姓名", "所属部门", "执法证号", "执法人员签名"])
    for values in _team_rows(entity, signature=True):
        d.row(team, values, min_height_cm=1.0)  # room to sign

    # 第十四条: signed or sealed by the entity; otherwise the reason, and a witness where needed.
    d.heading("四、检查对象确认")
    for line in (
        f"签字情况：{BOX}签字（盖章）确认　{BOX}拒签　{BOX}无法取得签字（盖章）",
        f"检查对象意见：{blank(62)}",
        f"检查对象签字（盖章）：{blank(24)}　日期：{DATE_BLANK}",
        f"拒签原因（无法取得签字或者盖章的，注明原因）：{blank(30)}",
        f"见证人（签名）：{blank(20)}　日期：{DATE_BLANK}",
        f"见证人单位或身份证件号码：{blank(24)}　联系电话：{blank(14)}",
    ):
        d.para(line, indent=False).paragraph_format.keep_with_next = True  # the block stays on one page
    d.para("")
    d.para("注：本表由检查小组现场填写；检查对象拒绝签字（盖章）或者无法取得签字（盖章）的，由执法人员注明原因，必要时邀请有关人员作见证记录。",
           indent=False, size=9)
    return d.doc


# ---------------------------------------------------------------- writing the files


def _safe(name: str) -> str:
    """The entity name as a file-name part (characters Windows forbids become _)."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_")[:40] or "未命名"


def file_name(data: FormData, entity: Entity, form: str) -> str:
    """{draw}-{position}-{uscc}-{name}-{form}.docx: sorts in draw order, names the entity."""
    return f"{data.draw}-{entity.position:03d}-{entity.uscc}-{_safe(entity.name)}-{form}.docx"


def _write(files: list[tuple[str, bytes]], out_dir: Path) -> list[Path]:
    """Write every file or none: each goes to a hidden partial name and is moved into place;
    on an error the files of this run are removed again. Existing files are refused without
    --force, all of them before any is written (files.claim)."""
    for name, _ in files:
        claim(out_dir / name)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"无法创建输出目录 {out_dir}：{exc.strerror or exc}",
                        f"Cannot create the output directory {out_dir}: {exc.strerror or exc}") from None
    written: list[Path] = []
    try:
        for name, content in files:
            with replacing(out_dir / name) as partial:
                partial.write_bytes(content)
            written.append(out_dir / name)
    except UserError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise UserError(f"{exc.zh}（未写出任何文书）", f"{exc.en} (no form was written)") from None
    return written


def write_notices(data: FormData, out_dir: Path) -> list[Path]:
    """One 联合抽查通知书 per entity of ``data``; the paths written, in draw order."""
    return _write([(file_name(data, e, "联合抽查通知书"), to_bytes(render_notice(data, e))) for e in data.entities], out_dir)


def write_checklists(data: FormData, out_dir: Path) -> list[Path]:
    """One 实地检查表 per entity of ``data``; the paths written, in draw order."""
    return _write([(file_name(data, e, "实地检查表"), to_bytes(render_checklist(data, e))) for e in data.entities], out_dir)
