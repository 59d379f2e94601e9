"""The locked list as dispatched to each executing department (第九条 下发至任务执行部门)."""

from __future__ import annotations

from sqlalchemy import Connection

from shuangsuiji.domain.teams import Assignment
from shuangsuiji.errors import UserError
from shuangsuiji.services import tasks
from shuangsuiji.services.draws import _locked, selection
from shuangsuiji.services.teams import final_teams


# The columns of a dispatched list (第九条 下发至任务执行部门): `draws dispatch` and the archive write the same file.
DISPATCH_COLUMNS = (
    ("no", "序号", "no"), ("uscc", "统一社会信用代码", "code"), ("name", "名称", "name"), ("region", "所属区域", "region"),
    ("address", "住所", "address"), ("risk_class", "信用风险分类", "risk class"), ("items", "本部门抽查事项", "items"),
    ("leader", "组长", "leader"), ("officers", "本部门执法人员", "officers"), ("team", "检查小组", "team"),
)


def dispatch_rows(conn: Connection, draw_id: str, department: str) -> list[dict]:
    """第九条: the locked list for one executing department, with its items and the team."""
    draw = _locked(conn, draw_id)
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    department = department.upper()
    if department not in [definition["initiating"], *definition["cooperating"]]:
        raise UserError(f"部门 {department} 不是任务 {draw['task_id']} 的执行部门",
                        f"Department {department} does not execute task {draw['task_id']}")
    items = "；".join(i["name"] for i in definition["items"] if i["department"] == department)
    teams = {t.entity: t for t in (final_teams(conn, draw_id) or Assignment(())).teams}
    from shuangsuiji.services.inspectors import officer_labels  # here: `draws run` need not import it

    label = officer_labels(conn)  # 姓名（证号）: a department knows its officers by name
    rows = []
    for n, s in enumerate(selection(conn, draw_id), start=1):
        team = teams.get(s["uscc"])
        rows.append({
            "no": n, "uscc": s["uscc"], "name": s["name"], "region": s["region"], "address": s["address"],
            "risk_class": s["stratum"], "items": items,
            "leader": label.get(team.leader.officer, team.leader.officer) if team else "",
            "officers": "、".join(label.get(m.officer, m.officer) for m in team.members if m.department == department) if team else "",
            "team": "、".join(label.get(m.officer, m.officer) for m in team.members) if team else "",
        })
    return rows
