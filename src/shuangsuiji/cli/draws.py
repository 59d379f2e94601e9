"""`shuangsuiji draws` and `shuangsuiji verify`: seeded, locked, verifiable draws (第九条 to 第十一条)."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DepartmentAlias, ExpectHead, Force, Json, Yes, existing, parse_head
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.files import replacing
from shuangsuiji.i18n import t

app = typer.Typer(help=t("随机抽取检查对象和执法人员，锁定名单，导出可离线复核的证据包（第九条至第十一条）",
                         "Draw entities and officers, lock the list, export a bundle anyone can re-verify (第九条 to 第十一条)"),
                  no_args_is_help=True)

TaskArg = Annotated[str, typer.Argument(help=t("任务编号", "task id"), show_default=False)]
DrawArg = Annotated[str, typer.Argument(help=t("抽取编号（如 2026-01-D1）", "draw id (e.g. 2026-01-D1)"), show_default=False)]

STRATA = [("name", "信用风险分类", "risk class"), ("ratio", "比例", "ratio"), ("size", "范围内", "in scope"),
          ("take", "应抽", "to draw"), ("selected", "已抽", "drawn")]


@app.command("commit", help=t(
    "冻结检查对象范围和参数并记录承诺的种子来源（未来的公共信标轮次、掷骰日期、各部门秘密），之后才能抽取",
    "Freeze population and parameters and commit to the seed sources (a future beacon round, dice on a date, "
    "departments' secrets) before anyone can know the seed"))
def commit(
    task: TaskArg,
    beacon: Annotated[Optional[str], typer.Option("--beacon", help=t("将使用的未来公共信标，如 'drand quicknet round 12345678'", "the future public beacon to use, e.g. 'drand quicknet round 12345678'"))] = None,
    dice: Annotated[Optional[str], typer.Option("--dice", help=t("掷骰仪式（日期、见证人）", "the dice ceremony (date, witnesses)"))] = None,
    dept: Annotated[Optional[list[str]], typer.Option("--dept", help=t("提供秘密的部门，可重复", "a department that contributes a secret, repeatable"))] = None,
    department: DepartmentAlias = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--output", help=t(
        "把要公布的承诺写入此 JSON 文件（抽取前公布；之后 verify --commitment 据此核对证据包）",
        "write the commitment to publish to this JSON file (publish it before the draw; `verify --commitment` checks the bundle against it)"))] = None,
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.files import claim
    from shuangsuiji.services import draws

    department = [*(dept or []), *(department or [])]
    if out is not None:
        claim(out)  # before the commitment is recorded: a refused file must not leave it unpublished

    sources = ([{"kind": "beacon", "label": beacon}] if beacon else []) + ([{"kind": "dice", "label": dice}] if dice else [])
    sources += [{"kind": "department", "label": d.upper()} for d in department or []]
    with context.writing() as conn:
        result = draws.commit(conn, task, sources, context.settings.who())
    published = json.dumps(result["published"], ensure_ascii=False, indent=1) + "\n"
    if out is not None:
        with replacing(out) as partial:
            partial.write_text(published, encoding="utf-8")
    if as_json:
        output.emit_json({**result, "file": str(out) if out else None})
        return
    output.info(t(f"已承诺 {result['draw']}。请在取得任何种子之前公布以下承诺（抽取后用 shuangsuiji verify --commitment 核对）：",
                  f"Committed {result['draw']}. Publish this commitment before any seed exists "
                  "(after the draw, `shuangsuiji verify --commitment` checks the bundle against it):"))
    print(published, end="")
    if out is not None:
        output.info(t(f"已写出 {out}", f"Wrote {out}"))
    output.table(result["strata"], STRATA[:4])


@app.command("contribute", help=t("部门提交其秘密的 SHA-256 承诺", "A department commits to its secret by SHA-256"))
def contribute(
    task: TaskArg,
    dept: Annotated[str, typer.Option("--dept", help=t("部门代码", "department code"), show_default=False)],
    commit_hash: Annotated[str, typer.Option("--commit", help=t("秘密的 SHA-256（64 位十六进制）", "SHA-256 of the secret (64 hex digits)"), show_default=False)],
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import draws

    with context.writing() as conn:
        result = draws.contribute(conn, task, dept, commit_hash, context.settings.who())
    output.emit_json(result) if as_json else output.info(t(f"已记录 {result['department']} 的承诺", f"Recorded {result['department']}'s commitment"))


@app.command("reveal", help=t("部门揭示其秘密（须与承诺的哈希一致）", "A department reveals its secret (must match its commitment)"))
def reveal(
    task: TaskArg,
    dept: Annotated[str, typer.Option("--dept", help=t("部门代码", "department code"), show_default=False)],
    secret: Annotated[Optional[str], typer.Option("--secret", help=t("秘密原文", "the secret"), show_default=False)] = None,
    secret_file: Annotated[Optional[Path], typer.Option("--secret-file", help=t("从文件读取秘密（末尾一个换行不计）", "read the secret from a file (one final newline dropped)"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import draws

    text_ = _secret(secret, secret_file, prompt=False)
    with context.writing() as conn:
        result = draws.reveal(conn, task, dept, text_, context.settings.who())
    if not result["ok"]:  # the mismatch is recorded in the log (committed above), and refused
        raise UserError(
            f"部门 {result['department']} 揭示的秘密与其承诺的哈希不符（已记入审计日志第 {result['audit_seq']} 条）",
            f"Department {result['department']}'s revealed secret does not match its committed hash "
            f"(recorded as audit entry {result['audit_seq']})",
            code=ExitCode.PROBLEMS,
        )
    output.emit_json(result) if as_json else output.info(t(f"{result['department']} 的秘密与承诺一致，已记录", f"{result['department']}'s secret matches its commitment; recorded"))


def _secret(secret: str | None, secret_file: Path | None, *, prompt: bool) -> str:
    """The secret from --secret, --secret-file (one final newline dropped), or else stdin / a hidden
    prompt (ditto): `echo secret |` hashes the same text as typing it."""
    import sys

    if secret is not None and secret_file is not None:
        raise UserError("--secret 与 --secret-file 只能给一个", "Give --secret or --secret-file, not both", code=ExitCode.USAGE)
    if secret is not None:
        value = secret
    elif secret_file is not None:
        from shuangsuiji.table_reader import read_limited

        try:
            value = read_limited(secret_file).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(f"无法读取 {secret_file}：{exc}", f"Cannot read {secret_file}: {exc}") from None
        value = _one_newline_off(value)
    elif not prompt:
        raise UserError("需要 --secret 或 --secret-file", "Give --secret or --secret-file", code=ExitCode.USAGE)
    elif sys.stdin.isatty():
        value = typer.prompt(t("秘密", "Secret"), hide_input=True, confirmation_prompt=True)
    else:
        value = _one_newline_off(sys.stdin.read())
    if not value:
        raise UserError("秘密不能为空", "The secret must not be empty", code=ExitCode.USAGE)
    return value


def _one_newline_off(value: str) -> str:
    return value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value


@app.command("secret-hash", help=t(
    "计算部门秘密的承诺（SHA-256），供 draws contribute --commit 使用；秘密来自提示输入、标准输入或 --secret-file，末尾一个换行不计",
    "Print the commitment (SHA-256) of a department's secret for `draws contribute --commit`; the secret comes from a "
    "prompt, stdin or --secret-file, one final newline dropped"))
def secret_hash(
    secret_file: Annotated[Optional[Path], typer.Option("--secret-file", help=t("从文件读取秘密", "read the secret from a file"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.seed import commit_hash

    value = _secret(None, secret_file, prompt=True)
    digest = commit_hash(value)
    if as_json:
        output.emit_json({"commit": digest, "characters": len(value)})
    else:
        print(digest)


@app.command("run", help=t(
    "冻结范围、取得种子、抽取并锁定——一个事务完成；之前无法看到任何种子会抽中谁",
    "Freeze, obtain the seed, draw and LOCK in one transaction; no one sees what a seed draws before this"))
def run(
    task: TaskArg,
    seed: Annotated[Optional[str], typer.Option("--seed", help=t("种子文本（如见证下掷出的 20 位以上骰子数字）；默认由系统安全随机数生成 256 位", "seed text (e.g. 20+ dice digits rolled before witnesses); default: 256 bits from the OS CSPRNG"))] = None,
    beacon_value: Annotated[Optional[str], typer.Option("--beacon-value", help=t("承诺的公共信标的值", "the committed beacon's value"))] = None,
    dice_value: Annotated[Optional[str], typer.Option("--dice", help=t("承诺的掷骰结果（数字）", "the committed dice digits"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import draws

    with context.writing() as conn:
        result = draws.run(conn, task, operator=context.settings.who(), seed=seed, beacon_value=beacon_value, dice=dice_value)
    if as_json:
        output.emit_json(result)
        return
    seed = output.seed_text(result["seed"])
    output.info(t(f"已抽取并锁定 {result['draw']}（种子 {seed}）", f"Drawn and locked {result['draw']} (seed {seed})"))
    output.table(result["strata"], STRATA)
    output.info(t(f"查看名单：shuangsuiji draws show {result['draw']}", f"See the list: shuangsuiji draws show {result['draw']}"))


@app.command("void", help=t(
    "作废一次抽取（保留在日志、列表和报告中，须说明理由）。已有执法人员、结果或后续处理的锁定抽取须两人完成："
    "一人 --reason 申请，另一名操作人 --confirm 确认",
    "Void a draw (it stays in the log, lists and reports, with the reason). A locked draw with officers, results or "
    "follow-ups takes two operators: one requests with --reason, a different one confirms with --confirm"))
def void(
    draw: DrawArg,
    reason: Annotated[Optional[str], typer.Option("--reason", help=t("作废理由", "why"), show_default=False)] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help=t("确认另一名操作人提出的作废申请", "confirm the void another operator requested"))] = False,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import draws

    context.confirm(t(f"作废 {draw}？", f"Void {draw}?"), yes)
    with context.writing() as conn:
        result = draws.void(conn, draw, reason, context.settings.who(), confirm=confirm)
    if as_json:
        output.emit_json(result)
    elif result["state"] == "void":
        output.info(t(f"{draw} 已作废：{result['reason']}", f"{draw} is void: {result['reason']}"))
    else:
        output.info(t(f"已申请作废 {draw}（已有：{'、'.join(result['built_on'])}）；须由另一名操作人运行 draws void {draw} --confirm",
                      f"Void of {draw} requested (it has {', '.join(result['built_on'])}); a different operator completes it "
                      f"with `draws void {draw} --confirm`"))


@app.command("list", help=t("列出抽取（含已作废的）", "List draws (void ones included)"))
def list_(
    task: Annotated[Optional[str], typer.Option("--task", help=t("只列出此任务", "only this task"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import draws, tasks

    with context.reading() as conn:
        if task:
            existing(lambda: tasks.get_task(conn, task))
        rows = draws.list_draws(conn, task)
    if as_json:
        output.emit_json(rows)
    else:
        output.table(rows, [("id", "抽取", "draw"), ("state", "状态", "state"), ("population", "范围", "population"),
                            ("selected", "抽中", "drawn"), ("team_members", "人员", "officers"), ("replacements", "更换", "replaced"),
                            ("locked_at", "锁定时间", "locked at"), ("void_reason", "作废理由", "void reason")])


def warn_team_problems(problems: list[dict]) -> None:
    """第十一条: warn (stderr) about team members who may no longer serve since the draw."""
    for p in problems:
        if p["problem"] == "unavailable":
            output.warn(t(f"检查小组已失效：{p['entity']} 的 {p['officer']} 已不能参加检查（非在岗、移出名录或执法证过期），请用 draws replace 更换（第十一条）",
                   f"team no longer valid: {p['officer']} in the team of {p['entity']} can no longer serve (not 在岗, out of the "
                   f"directory or 执法证 lapsed); replace them with `draws replace` (第十一条)"))
        else:
            output.warn(t(f"检查小组已失效：{p['officer']} 与 {p['entity']} 有抽取后登记的回避关系，请用 draws replace --entity 更换（第十一条）",
                   f"team no longer valid: {p['officer']} has a conflict (回避) with {p['entity']} declared after the draw; "
                   f"replace them with `draws replace --entity` (第十一条)"))


@app.command("show", help=t("显示锁定的名单（含每个对象的号签）和检查小组", "Show the locked list (with each entity's ticket) and the teams"))
def show(draw: DrawArg, as_json: Json = False) -> None:
    from shuangsuiji.domain.draw import short_ticket
    from shuangsuiji.services import draws

    from shuangsuiji.services.inspectors import officer_labels

    with context.reading() as conn:
        data = draws.show(conn, draw)
        label = officer_labels(conn)
    warn_team_problems(data["team_problems"])
    if as_json:
        output.emit_json(data)
        return
    output.record(data, [("id", "抽取", "draw"), ("task_id", "任务", "task"), ("state", "状态", "state"), ("seed", "种子", "seed"),
                         ("locked_at", "锁定时间", "locked at"), ("void_reason", "作废理由", "void reason"),
                         ("population_sha256", "范围摘要", "population SHA-256")])
    teams = {t_["entity"]: t_["members"] for t_ in data["teams"]}
    rows = [{**s, "short": short_ticket(s["ticket"]),
             "team": "、".join(label.get(m["officer"], m["officer"]) for m in teams.get(s["uscc"], []))}
            for s in data["selected"]]
    output.table(rows, [("uscc", "统一社会信用代码", "code"), ("name", "名称", "name"), ("stratum", "风险分类", "class"),
                        ("position", "序", "#"), ("short", "号签", "ticket"), ("team", "检查小组（首位为组长）", "team (leader first)")])


@app.command("dispatch", help=t("导出某执行部门的名单（第九条：下发至任务执行部门）", "Export one executing department's list (第九条)"))
def dispatch(
    draw: DrawArg,
    dept: Annotated[str, typer.Option("--dept", help=t("部门代码", "department code"), show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--output", help=t("输出文件 .xlsx 或 .csv", "output .xlsx or .csv"), show_default=False)],
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji import table_writer
    from shuangsuiji.services.dispatch import DISPATCH_COLUMNS, dispatch_rows

    with context.reading() as conn:
        rows = dispatch_rows(conn, draw, dept)
    if rows and not any(r["team"] for r in rows):
        # 第九条 sends the list before 第十条's officers are drawn, so this is allowed; but say what is missing.
        output.warn(t(f"{draw} 尚未抽取执法人员，名单中的组长和检查小组栏为空；抽取后再下发一次：shuangsuiji draws inspectors {draw}",
                      f"{draw} has no officers yet: the leader and team columns are empty; draw them and dispatch again: "
                      f"shuangsuiji draws inspectors {draw}"))
    table_writer.write(out, rows, DISPATCH_COLUMNS, title=t(f"{draw} 抽查名单（{dept.upper()}）", f"{draw} list ({dept.upper()})"))
    result = {"draw": draw, "department": dept.upper(), "file": str(out), "rows": len(rows)}
    output.emit_json(result) if as_json else output.info(t(f"已写出 {out}（{len(rows)} 行）", f"Wrote {out} ({len(rows)} rows)"))


@app.command("inspectors", help=t(
    "为每个执行部门抽取执法人员并组成检查小组（组长来自发起部门，回避，工作量均衡），并锁定",
    "Draw each executing department's officers and form the teams (leader from the initiating department, "
    "recusals, balanced load), locked"))
def inspectors(draw: DrawArg, as_json: Json = False) -> None:
    from shuangsuiji.services import teams

    from shuangsuiji.services.inspectors import officer_labels

    with context.writing() as conn:
        result = teams.assign_inspectors(conn, draw, context.settings.who())
        label = officer_labels(conn)
    for officer in result["in_every_team"]:  # 第十条: nobody was drawn at random for these slots
        name = label.get(officer, officer)
        output.warn(t(f"执法人员 {name} 在全部 {len(result['teams'])} 个检查小组中：其部门可派人员只有一名，人员并非随机抽取",
                      f"officer {name} is in all {len(result['teams'])} teams: the department has one eligible officer, "
                      f"so nobody was drawn at random"))
    if as_json:
        output.emit_json(result)
        return
    output.table([{"entity": t_["entity"], "team": "、".join(label.get(m["officer"], m["officer"]) for m in t_["members"])}
                  for t_ in result["teams"]],
                 [("entity", "检查对象", "entity"), ("team", "检查小组（首位为组长）", "team (leader first)")])
    output.info(t("工作量：", "loads: ") + "，".join(f"{label.get(k, k)} {v}" for k, v in result["loads"].items()))


@app.command("replace", help=t("因岗位调整、工作、健康、回避等原因更换执法人员（第十一条），按号签顺延", "Replace an officer for a recorded reason (第十一条): the next eligible ticket"))
def replace(
    draw: DrawArg,
    officer: Annotated[str, typer.Option("--officer", help=t("被更换者的执法证号", "certificate of the officer leaving"), show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help=t("岗位调整|工作|健康|回避|其他（或 post_change|work|health|conflict|other）", "post_change|work|health|conflict|other (or 岗位调整|工作|健康|回避|其他)"), show_default=False)],
    entity: Annotated[Optional[str], typer.Option("--entity", help=t("只在此检查对象的小组中更换", "only in this entity's team"))] = None,
    note: Annotated[str, typer.Option("--note", help=t("说明", "note"))] = "",
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.directory import normalise_uscc
    from shuangsuiji.services import teams

    with context.writing() as conn:
        result = teams.replace(conn, draw, officer, reason, operator=context.settings.who(),
                               entity=normalise_uscc(entity) if entity else None, note=note)
    if as_json:
        output.emit_json(result)
        return
    for e, new in result["successors"].items():
        output.info(t(f"{e}：{result['officer']} → {'、'.join(new)}", f"{e}: {result['officer']} → {', '.join(new)}"))


@app.command("export", help=t("导出自包含的 JSON 证据包，供离线复核", "Export the self-contained JSON bundle for offline verification"))
def export(
    draw: DrawArg,
    out: Annotated[Path, typer.Option("-o", "--output", help=t("输出 bundle.json", "output bundle.json"), show_default=False)],
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.bundle import write_bundle
    from shuangsuiji.services import bundle_export

    with context.reading() as conn:
        data = bundle_export.export_bundle(conn, draw)
    with replacing(out) as partial, partial.open("wb") as file:  # written piecewise: never the whole JSON at once
        sha256, content_sha256 = write_bundle(data, file.write)
    result = {"draw": draw, "file": str(out), "sha256": sha256, "content_sha256": content_sha256}
    output.emit_json(result) if as_json else output.info(t(f"已写出 {out}（SHA-256 {result['sha256']}）", f"Wrote {out} (SHA-256 {result['sha256']})"))


@app.command("verify", help=t("从存储重新计算一次抽取并核对（与 shuangsuiji verify 相同）", "Recompute a draw from the store and compare (as `shuangsuiji verify` does)"))
def verify_stored(draw: DrawArg, as_json: Json = False) -> None:
    from shuangsuiji.services import bundle_export

    with context.reading() as conn:
        result = bundle_export.verify_stored(conn, draw)
    _report(result, as_json)


def verify_bundle(
    bundle: Annotated[Path, typer.Argument(help=t("证据包 bundle.json", "the bundle.json"), show_default=False)],
    log: Annotated[Optional[Path], typer.Option("--log", help=t(
        "再与 audit export 导出的日志核对（须同时给 --expect-head）", "also cross-check with a log written by `audit export` (needs --expect-head)"))] = None,
    expect_head: ExpectHead = None,
    commitment: Annotated[Optional[Path], typer.Option("--commitment", help=t(
        "再与抽取前公布的承诺（draws commit -o）核对", "also check against the commitment published before the draw (`draws commit -o`)"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain import bundle as bundles

    head = parse_head(expect_head)
    if (log is None) != (head is None):
        raise UserError("--log 与 --expect-head 须一起给出：日志只有与已公布的链头相连才可信",
                        "--log and --expect-head go together: a log proves something only when tied to a published head",
                        code=ExitCode.USAGE)
    draw_id = None
    try:
        data = _read_json(bundle, bundles)
        draw_id = data.get("draw", {}).get("id") if isinstance(data, dict) and isinstance(data.get("draw"), dict) else None
        result = {"ok": True, "draw": draw_id, **bundles.verify(data)}
        if commitment is not None:
            bundles.check_commitment(data, _read_json(commitment, bundles))
            result["commitment"] = "matches"
        if log is not None:
            result["log_entries_compared"] = bundles.cross_check(data, bundles.checked_log(_read_json(log, bundles), head))
            result["expect_head"] = f"{head[0]}:{head[1]}"
    except bundles.Mismatch as exc:
        result = {"ok": False, "draw": draw_id, "field": exc.field, "message": exc.message}
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # malformed: a field missing deep inside
        result = {"ok": False, "draw": draw_id, "field": "bundle", "message": f"malformed bundle: {exc!r}"}
    _report(result, as_json)


def _read_json(path: Path, bundles):
    """A JSON file, nesting bounded (bundles.parse); unreadable or invalid is a named refusal."""
    from shuangsuiji.table_reader import read_limited

    try:  # read_limited: size-capped (SHUANGSUIJI_MAX_FILE_MB), unreadable is a named error
        return bundles.parse(read_limited(path))  # bytes: an exported bundle's populations are read as Codes
    except bundles.Mismatch as exc:
        raise bundles.Mismatch(exc.field if exc.field != "bundle" else str(path), exc.message) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} 不是有效的 JSON：{exc}", f"{path} is not valid JSON: {exc}") from None  # unreadable input is 1, not a finding


VERIFY_HELP = t("离线复核证据包：不需要存储，重新计算全部号签、名单和小组；一致退出 0，否则 3 并指出第一处差异；"
                "文件无法读取或不是 JSON 时退出 1",
                "Verify a bundle offline: no store needed; recomputes every ticket, the list and the teams; exit 0, or 3 naming "
                "the first difference; 1 when the file cannot be read or is not JSON")


def _report(result: dict, as_json: bool) -> None:
    if as_json:
        output.emit_json(result)
    elif result["ok"]:
        output.info(t(f"复核通过：{result['draw']} 的抽取结果可由种子和范围完全重现。",
                      f"Verified: {result['draw']} is exactly reproduced from its seed and population."))
        if result.get("state") == "void":
            void = result["void"]
            output.warn(t(f"状态：已作废（{void['at']}，理由：{void['reason']}）——此名单不得使用。",
                          f"state: VOID ({void['at']}, reason: {void['reason']}) — this list must not be used."))
        elif result.get("state"):
            output.info(t("状态：已锁定", "state: locked"))
        if result.get("earlier_attempts"):
            output.info(t(f"此前的抽取（均已作废）：{result['earlier_attempts']} 次，见证据包 earlier_attempts",
                          f"earlier attempts (all void): {result['earlier_attempts']}, listed in the bundle's earlier_attempts"))
        if result.get("commitment"):
            output.info(t("与公布的承诺一致。", "Matches the published commitment."))
        if result.get("expect_head"):
            output.info(t(f"与日志核对一致（{result['log_entries_compared']} 条，链头 {result['expect_head']}）。",
                          f"Agrees with the log ({result['log_entries_compared']} entries, head {result['expect_head']})."))
    else:
        output.error(t(f"复核不通过：{result['field']}：{result['message']}", f"verification failed: {result['field']}: {result['message']}"))
    if not result["ok"]:
        raise typer.Exit(ExitCode.PROBLEMS)
