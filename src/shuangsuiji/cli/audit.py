"""`shuangsuiji audit`: read and verify the hash-chained log (第五条: 全程留痕、责任可溯)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import ExpectHead, Json, parse_head
from shuangsuiji.errors import ExitCode
from shuangsuiji.i18n import t

app = typer.Typer(help=t("审计日志：只可追加、哈希链接", "Audit log: append-only and hash-chained"), no_args_is_help=True)


@app.command("log", help=t("列出日志条目", "List log entries"))
def log(
    since: Annotated[int, typer.Option("--since", help=t("只列出序号大于此值的条目", "only entries after this sequence number"))] = 0,
    limit: Annotated[Optional[int], typer.Option("--limit", help=t("最多条目数", "at most this many entries"))] = None,
    command: Annotated[Optional[str], typer.Option("--command", help=t("只列出以此开头的命令", "only commands starting with this"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import audit

    with context.reading() as conn:
        rows = [e.to_json() for e in audit.entries(conn, since=since, limit=limit, command=command)]
    if as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["short_hash"] = row["hash"][:16]
        row["summary"] = output.canonical_short(row["payload"])
    output.table(rows, [("seq", "序号", "seq"), ("ts", "时间", "time"), ("operator", "操作人", "operator"),
                        ("command", "命令", "command"), ("summary", "内容", "payload"), ("short_hash", "哈希", "hash")])


@app.command("verify", help=t("逐条校验哈希链；发现问题时退出码 3 并指出第一条断裂的条目",
                              "Walk the hash chain; exit 3 naming the first broken entry"))
def verify(
    expect_head: ExpectHead = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import audit

    head = parse_head(expect_head)
    with context.reading() as conn:
        result = audit.verify(conn, head)
    if as_json:
        output.emit_json(result)
    elif result["ok"]:
        output.info(t(f"审计日志完好：{result['entries']} 条，链头 {result['head_hash']}",
                      f"Audit log intact: {result['entries']} entries, head {result['head_hash']}"))
    else:
        output.error(t(result["broken"]["message_zh"], result["broken"]["message"]))
    if not result["ok"]:
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command("head", help=t("显示链头（序号和哈希），供在别处公布", "Print the head (sequence number and hash) to publish elsewhere"))
def head(as_json: Json = False) -> None:
    from shuangsuiji.services import audit

    with context.reading() as conn:
        entry = audit.head(conn)
    data = {"seq": entry.seq, "hash": entry.hash, "ts": entry.ts} if entry else {"seq": 0, "hash": None, "ts": None}
    if as_json:
        output.emit_json(data)
    else:
        print(f"{data['seq']}:{data['hash']}")


@app.command("export", help=t(
    "把整条日志写成一个 JSON 文件（每条含其哈希覆盖的字段），供 shuangsuiji verify --log 和他人离线复核",
    "Write the whole log as one JSON file (each entry with the fields its hash covers), for `shuangsuiji verify --log` "
    "and anyone re-checking it offline"))
def export(
    out: Annotated[Path, typer.Option("-o", "--output", help=t("输出 log.json", "output log.json"), show_default=False)],
    as_json: Json = False,
) -> None:
    import json

    from shuangsuiji.domain.bundle import sha256_text
    from shuangsuiji.files import replacing
    from shuangsuiji.services import audit

    with context.reading() as conn:
        data = audit.export(conn)
    body = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    with replacing(out) as partial:
        partial.write_text(body, encoding="utf-8")
    head = data["head"]
    result = {"file": str(out), "entries": len(data["entries"]), "head": f"{head['seq']}:{head['hash']}", "sha256": sha256_text(body)}
    if as_json:
        output.emit_json(result)
    else:
        output.info(t(f"已写出 {out}：{result['entries']} 条，链头 {result['head']}",
                      f"Wrote {out}: {result['entries']} entries, head {result['head']}"))
