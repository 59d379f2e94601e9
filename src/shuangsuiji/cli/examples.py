"""One example per command, shown at the end of its ``--help`` (and in docs/cli.md).

Kept in one table rather than in each command's declaration so that every command has one (a
test walks the command tree) and the examples read as one consistent story: the 连州市 demo's
ids (task 2026-07, draw 2026-07-D1, department SCJG).
"""

EXAMPLES: dict[str, list[str]] = {
    "init": ["shuangsuiji init", "SHUANGSUIJI_DB=postgresql://spotcheck@db.example/lianzhou shuangsuiji init"],
    "verify": ["shuangsuiji verify bundle-2026-07-D1.json",
               "shuangsuiji verify bundle.json --commitment 承诺.json --log 审计日志.json --expect-head 42:<公布的链头>"],
    "publish": ["shuangsuiji publish 2026-07-D1 --dept SCJG -o 公示-SCJG.xlsx"],
    "demo": ["shuangsuiji demo --dir 演示"],
    "departments import": ["shuangsuiji departments import departments.yaml --dry-run"],
    "departments list": ["shuangsuiji departments list --json"],
    "objects import": ["shuangsuiji objects import 名录库.xlsx", "shuangsuiji objects import 名录库.csv --sync --yes"],
    "objects list": ["shuangsuiji objects list --risk-class D --status 存续 --limit 20"],
    "objects show": ["shuangsuiji objects show 92441882MA4UNTD413"],
    "inspectors import": ["shuangsuiji inspectors import 执法人员.csv --skip-invalid --rejects 被拒绝.csv"],
    "inspectors list": ["shuangsuiji inspectors list --dept SCJG"],
    "inspectors show": ["shuangsuiji inspectors show 44188201002"],
    "conflicts import": ["shuangsuiji conflicts import 回避.csv"],
    "conflicts list": ["shuangsuiji conflicts list --json"],
    "checklists validate": ["shuangsuiji checklists validate checklists/lianzhou-joint-checklist.yaml"],
    "checklists import": ["shuangsuiji checklists import checklists/lianzhou-joint-checklist.yaml"],
    "checklists list": ["shuangsuiji checklists list"],
    "checklists show": ["shuangsuiji checklists show LZ-03"],
    "checklists diff": ["shuangsuiji checklists diff 2025.1 2026.1"],
    "checklists export": ["shuangsuiji checklists export --format xlsx -o 联合清单.xlsx"],
    "plans import": ["shuangsuiji plans import plan-2026.yaml"],
    "plans check": ["shuangsuiji plans check 2026"],
    "plans list": ["shuangsuiji plans list"],
    "plans show": ["shuangsuiji plans show 2026"],
    "plans publish": ["shuangsuiji plans publish 2026 -o 公示/"],
    "tasks create": ["shuangsuiji tasks create --from-plan 2026 --plan-task 2026-07",
                     "shuangsuiji tasks create --file task.yaml --dry-run"],
    "tasks import-list": ["shuangsuiji tasks import-list 2026-01 名单.xlsx"],
    "tasks list": ["shuangsuiji tasks list --year 2026"],
    "tasks show": ["shuangsuiji tasks show 2026-07"],
    "tasks preview": ["shuangsuiji tasks preview 2026-07"],
    "draws commit": ["shuangsuiji draws commit 2026-07 --dice '2026-04-01 会议室，纪检组见证' --dept SCJG -o 承诺.json"],
    "draws secret-hash": ["shuangsuiji draws secret-hash --secret-file scjg-secret.txt"],
    "draws contribute": ["shuangsuiji draws contribute 2026-07 --dept SCJG --commit $(printf %s 秘密 | sha256sum | cut -c1-64)"],
    "draws reveal": ["shuangsuiji draws reveal 2026-07 --dept SCJG --secret 秘密"],
    "draws run": ["shuangsuiji draws run 2026-07 --seed 31415926535897932384"],
    "draws void": ["shuangsuiji draws void 2026-07-D1 --reason '范围设置错误' --yes",
                   "SHUANGSUIJI_OPERATOR=李明 shuangsuiji draws void 2026-07-D1 --confirm"],
    "draws list": ["shuangsuiji draws list --task 2026-07"],
    "draws show": ["shuangsuiji draws show 2026-07-D1"],
    "draws dispatch": ["shuangsuiji draws dispatch 2026-07-D1 --dept SCJG -o 名单.xlsx"],
    "draws inspectors": ["shuangsuiji draws inspectors 2026-07-D1"],
    "draws replace": ["shuangsuiji draws replace 2026-07-D1 --officer 44188201002 --reason 健康"],
    "draws export": ["shuangsuiji draws export 2026-07-D1 -o bundle.json"],
    "draws verify": ["shuangsuiji draws verify 2026-07-D1"],
    "results template": ["shuangsuiji results template 2026-07-D1 --dept SCJG -o 结果.xlsx"],
    "results import": ["shuangsuiji results import 2026-07-D1 结果.xlsx"],
    "results record": ["shuangsuiji results record 2026-07-D1 --entity 92441882MA4UNTD413 --item LZ-02-1 "
                       "--result 未发现问题 --date 2026-05-10"],
    "results status": ["shuangsuiji results status 2026-07-D1 --strict"],
    "results list": ["shuangsuiji results list 2026-07-D1 --dept SCJG"],
    "results history": ["shuangsuiji results history 2026-07-D1 --entity 92441882MA4UNTD413"],
    "results attach": ["shuangsuiji results attach 2026-07-D1 92441882MA4UNTD413 现场照片.jpg 签字表.pdf --note 现场检查"],
    "results evidence": ["shuangsuiji results evidence 2026-07-D1 --entity 92441882MA4UNTD413"],
    "followups list": ["shuangsuiji followups list --status open"],
    "followups show": ["shuangsuiji followups show 1"],
    "followups update": ["shuangsuiji followups update 1 --status closed --note 已整改 --closed-on 2026-06-01"],
    "forms notice": ["shuangsuiji forms notice 2026-07-D1 -o 文书/"],
    "forms checklist": ["shuangsuiji forms checklist 2026-07-D1 -o 文书/ --entity 92441882MA4UNTD413"],
    "reports plan": ["shuangsuiji reports plan 2026"],
    "reports task": ["shuangsuiji reports task 2026-07-D1 --format html -o 报告.html"],
    "reports year": ["shuangsuiji reports year 2026 --format xlsx -o 2026年度.xlsx"],
    "archive": ["shuangsuiji archive 2026-07-D1 -o 归档-2026-07.zip", "shuangsuiji archive verify 归档-2026-07.zip"],
    "archive create": ["shuangsuiji archive create 2026-07-D1 -o 归档-2026-07.zip"],
    "archive verify": ["shuangsuiji archive verify 归档-2026-07.zip"],
    "audit log": ["shuangsuiji audit log --command draws --limit 20"],
    "audit verify": ["shuangsuiji audit verify --expect-head 42:$(cat 公布的链头.txt | cut -d: -f2)"],
    "audit export": ["shuangsuiji audit export -o 审计日志.json"],
    "audit head": ["shuangsuiji audit head > 链头.txt"],
    "db backup": ["shuangsuiji db backup 备份/lianzhou-$(date +%F).db"],
    "db check": ["shuangsuiji db check"],
}


def epilog(path: str, existing: str | None = None) -> str | None:
    """The help epilog of the command at ``path`` ("draws show"): its examples after any epilog it has."""
    from shuangsuiji.i18n import t

    lines = EXAMPLES.get(path)
    if not lines:
        return existing
    block = t("示例：", "Example:" if len(lines) == 1 else "Examples:") + "\n" + "\n".join("$ " + line for line in lines)
    return f"{existing}\n\n{block}" if existing else block


def attach(app, path: tuple[str, ...] = ()) -> None:
    """Give every command (and group) of a Typer app its examples, before Click builds them."""
    from typer.main import get_command_name

    for info in app.registered_commands:
        name = info.name or get_command_name(info.callback.__name__)
        info.epilog = epilog(" ".join((*path, name)), info.epilog)
    for group in app.registered_groups:
        sub = group.typer_instance
        if getattr(sub, "_examples_attached", False):  # a sub-app shared by two trees (cli.main.build)
            continue
        sub._examples_attached = True
        name = group.name or sub.info.name
        key = " ".join((*path, name))
        if key in EXAMPLES:
            if sub.registered_callback is not None:
                sub.registered_callback.epilog = epilog(key, sub.registered_callback.epilog)
            else:
                sub.info.epilog = epilog(key, sub.info.epilog)
        attach(sub, (*path, name))
