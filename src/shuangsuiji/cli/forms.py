"""`shuangsuiji forms`: 执法文书 of a locked draw as DOCX to print (第十四条)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import Force, Json
from shuangsuiji.i18n import t

app = typer.Typer(help=t("执法文书：联合抽查通知书、实地检查表（DOCX，第十四条）",
                         "Enforcement forms: joint-check notice and on-site checklist (DOCX, 第十四条)"),
                  no_args_is_help=True)

DrawArg = Annotated[str, typer.Argument(help=t("抽取编号（如 2026-09-D1）", "draw id (e.g. 2026-09-D1)"), show_default=False)]
Entity = Annotated[Optional[str], typer.Option("--entity", help=t("只生成此检查对象（统一社会信用代码）", "only this entity (unified social credit code)"))]
OutDir = Annotated[Path, typer.Option("-o", "--output", help=t("输出目录（不存在则创建；同名文件须加 --force 才覆盖）", "output directory (created if missing; files of the same name are replaced only with --force)"), show_default=False)]


def _run(kind: str, draw: str, entity: str | None, out: Path, as_json: bool) -> None:
    """Read the store, then render and write: a bad draw or entity leaves no file behind."""
    from shuangsuiji.services import forms

    with context.reading() as conn:
        data = forms.gather(conn, draw, entity)
    write = forms.write_notices if kind == "notice" else forms.write_checklists
    paths = write(data, out)
    if any(e.team is None for e in data.entities):  # stderr: a script reading --json sees it too
        output.warn(t(f"{draw} 尚未抽取执法人员，检查小组部分留空（shuangsuiji draws inspectors {draw}）",
                      f"{draw} has no officers yet; the team part is left blank (`shuangsuiji draws inspectors {draw}`)"))
    result = {"draw": draw, "files": [str(p) for p in paths], "count": len(paths)}
    if as_json:
        output.emit_json(result)
        return
    what = t("联合抽查通知书", "notice(s)") if kind == "notice" else t("实地检查表", "checklist(s)")
    output.info(t(f"已在 {out} 写出 {len(paths)} 份{what}", f"Wrote {len(paths)} {what} to {out}"))


@app.command("notice", short_help=t("联合抽查通知书（每个检查对象一份 DOCX）", "Joint-check notices (one DOCX per entity)"), help=t(
    "市场监管领域部门联合抽查通知书（第十四条（二））：每个检查对象一份，写明检查事项及依据、发起和配合部门、检查小组、"
    "检查时间、权利和义务；文号、需准备的资料、联系人、发文日期和盖章留空手填",
    "Joint-check notices (第十四条(二)): one per entity, with the items and their legal basis, the departments, the team, "
    "the window, the entity's rights and duties; document number, materials, contact, date and seal left blank"))
def notice(draw: DrawArg, out: OutDir, entity: Entity = None, force: Force = False, as_json: Json = False) -> None:
    _run("notice", draw, entity, out, as_json)


@app.command("checklist", short_help=t("实地检查表（每个检查对象一份 DOCX，含签名栏）", "On-site checklists (one DOCX per entity, with signature lines)"), help=t(
    "实地检查表（第十四条）：每个检查对象一份，列出各部门全部检查事项（依据、方式、检查情况、结果勾选）、检查对象信息、"
    "检查小组及签名栏、检查对象签字（盖章）、拒签原因和见证人栏",
    "On-site checklists (第十四条): one per entity, every department's items (basis, methods, findings, result boxes), "
    "the entity, the team with signature lines, the entity's signature/seal, refusal reason and witness lines"))
def checklist(draw: DrawArg, out: OutDir, entity: Entity = None, force: Force = False, as_json: Json = False) -> None:
    _run("checklist", draw, entity, out, as_json)
