"""Verification that trusts nothing the coordinator asserts (issue 11).

The directories are as protected as the draws (migration 6, `db check` reconciling them with
their history, the log and every draw), a bundle carries and checks what an auditor needs, and
bad bundles get a named refusal. docs/verifying.md and docs/reliability.md §4 list these cases.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from conftest import EXAMPLES, DBError, copy_store, run_process
from shuangsuiji.domain.draw import sample
from shuangsuiji.domain.seed import BEACONS
from test_archive import fix_manifest, rewrite
from test_draws import make_task
from test_results import make_joint_draw
from test_tamper import SEED, demo_db, drop_triggers, one, problems, restore_triggers, sql, where  # noqa: F401 (fixture)


@pytest.fixture
def demo(demo_db, store_env):
    """A copy of the demo store as this test's store; task 2026-07 (食品销售) not yet drawn."""
    copy_store(demo_db, store_env)
    return store_env


def drawable(db, task_class: str = "C") -> str:
    """A drawable entity in the scope of task 2026-07 (industry 食品销售)."""
    return one(db, "SELECT uscc FROM entity WHERE industry = '食品销售' AND in_directory = 1 "
                   "AND status IN ('存续', '在业') AND risk_class = ? ORDER BY uscc LIMIT 1", (task_class,))[0]


# ---------------------------------------------------------------- the population is as protected as the draw


@pytest.mark.parametrize("statement", [
    "UPDATE entity SET status = '注销' WHERE uscc = '{e}'",
    "DELETE FROM entity WHERE uscc = '{e}'",
    "UPDATE inspector SET status = '离岗' WHERE cert_no = (SELECT MIN(cert_no) FROM inspector)",
    "DELETE FROM conflict WHERE cert_no = (SELECT MIN(cert_no) FROM conflict)",
])
def test_a_direct_edit_of_the_directories_is_refused(demo, cli, statement):
    e = drawable(demo)
    with pytest.raises(DBError, match="change only through shuangsuiji imports"):
        sql(demo, statement.format(e=e))
    assert one(demo, "SELECT status FROM entity WHERE uscc = ?", (e,))[0] in ("存续", "在业")
    assert one(demo, "SELECT COUNT(*) FROM import_permit")[0] == 0
    assert cli("db", "check").code == 0


def test_an_entity_hidden_during_a_draw_and_restored_is_found_by_db_check(demo, cli):
    """The issue's case: one UPDATE before `draws run`, reverted after, triggers put back."""
    e = drawable(demo)
    drop_triggers(demo, "entity")
    sql(demo, "UPDATE entity SET status = '注销' WHERE uscc = ?", params=(e,))
    result = cli("draws", "run", "2026-07", "--seed", SEED, "--json")
    assert result.code == 0, result.err
    draw = result.json()["draw"]
    sql(demo, "UPDATE entity SET status = '存续' WHERE uscc = ?", params=(e,))
    restore_triggers(demo, "entity")
    assert cli("draws", "verify", draw).code == 0  # the draw agrees with itself
    assert cli("audit", "verify").code == 0
    found = problems(cli)
    assert where(found) == {("directories", "entity", e)}
    assert draw in found[0]["message"] and "not so in its frozen population" in found[0]["message"]


def test_an_unreverted_edit_of_a_row_with_history_is_found(demo, cli, tmp_path):
    """After an import changed a row, the row's tracked fields must be its history's last values."""
    e = drawable(demo)
    lines = (tmp_path / "o.csv")
    text = (EXAMPLES / "objects.csv").read_text(encoding="utf-8")
    header, *body = text.splitlines()
    cols = header.split(",")
    rows = [r.split(",") for r in body]
    for r in rows:
        if r[cols.index("uscc")] == e:
            r[cols.index("risk_class")] = "B"
    lines.write_text("\n".join([header, *[",".join(r) for r in rows]]) + "\n", encoding="utf-8")
    assert cli("objects", "import", lines).code == 0
    assert cli("db", "check").code == 0
    drop_triggers(demo, "entity")
    sql(demo, "UPDATE entity SET risk_class = 'A' WHERE uscc = ?", params=(e,))
    restore_triggers(demo, "entity")
    found = problems(cli)
    assert ("directories", "entity", e) in where(found)
    assert any("history's last change set it to 'B'" in p["message"] for p in found)


def test_an_officer_hidden_during_the_inspector_draw_is_found(demo, cli):
    result = cli("draws", "run", "2026-07", "--seed", SEED, "--json")
    draw = result.json()["draw"]
    pooled = [c for (c,) in [one(demo, "SELECT MIN(cert_no) FROM inspector WHERE department = 'SCJG' AND in_directory = 1 "
                                       "AND status = '在岗'")]]
    cert = pooled[0]
    drop_triggers(demo, "inspector")
    sql(demo, "UPDATE inspector SET status = '离岗' WHERE cert_no = ?", params=(cert,))
    assert cli("draws", "inspectors", draw).code == 0
    sql(demo, "UPDATE inspector SET status = '在岗' WHERE cert_no = ?", params=(cert,))
    restore_triggers(demo, "inspector")
    found = problems(cli)
    assert ("directories", "inspector", cert) in where(found)


def test_a_left_permit_is_found(demo, cli):
    sql(demo, "INSERT INTO import_permit (id) VALUES (1)")
    assert ("directories", "import_permit", "1") in where(problems(cli))


# ---------------------------------------------------------------- a swapped row is named, never "internal error"


def test_a_team_row_pointing_to_a_swapped_entity_is_named(demo, cli, tmp_path):
    draw = one(demo, "SELECT id FROM draw WHERE state = 'locked' AND id IN (SELECT draw_id FROM draw_team)")[0]
    first = one(demo, "SELECT uscc FROM draw_selection WHERE draw_id = ? ORDER BY stratum, position LIMIT 1", (draw,))[0]
    drop_triggers(demo, "draw_selection")
    sql(demo, "UPDATE draw_selection SET uscc = '91441882MA4UXXXXX1' WHERE draw_id = ? AND uscc = ?", params=(draw, first))
    for args in (("draws", "show", draw), ("draws", "export", draw, "-o", tmp_path / "b.json"), ("draws", "verify", draw)):
        result = cli(*args)
        assert result.code == 3, (args, result.err)
        assert f"draw_team row ({draw}, {first}, 1)" in result.err and "internal error" not in result.err
    assert ("draws", "draw", draw) in where(problems(cli))


# ---------------------------------------------------------------- the bundle carries and checks what an auditor needs


@pytest.fixture
def task(store, tmp_path):
    return make_task(store, tmp_path)


def export(cli, draw, path):
    result = cli("draws", "export", draw, "-o", path)
    assert result.code == 0, result.err
    return json.loads(path.read_text(encoding="utf-8"))


def verify(cli, bundle, path, *extra):
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return cli("verify", path, "--json", *extra)


def refused(result, field: str):
    assert result.code == 3, result.out + result.err
    assert result.json()["field"] == field, result.json()
    return result.json()["message"]


def log_and_head(cli, tmp_path):
    assert cli("audit", "export", "-o", tmp_path / "log.json").code == 0
    return tmp_path / "log.json", cli("audit", "head").out.strip()


def test_a_redraw_lists_every_earlier_attempt_and_a_void_bundle_says_so(store, task, tmp_path):
    first = store("draws", "run", task, "--seed", "dice 1", "--json").json()["draw"]
    assert store("draws", "void", first, "--reason", "名录库数据有误", "--yes").code == 0
    second = store("draws", "run", task, "--seed", "dice 2", "--json").json()["draw"]
    bundle = export(store, second, tmp_path / "b2.json")
    [earlier] = bundle["earlier_attempts"]
    assert earlier["id"] == first and earlier["seed"] == "dice 1" and earlier["void"]["reason"] == "名录库数据有误"
    assert earlier["selected_sha256"] and earlier["population_sha256"] == bundle["population_sha256"]
    ok = store("verify", tmp_path / "b2.json", "--json")
    assert ok.code == 0 and ok.json()["earlier_attempts"] == 1 and ok.json()["state"] == "locked"
    log, head = log_and_head(store, tmp_path)
    assert store("verify", tmp_path / "b2.json", "--log", log, "--expect-head", head).code == 0
    # leaving the first attempt out is refused offline, and its seed rewritten is refused by the log
    hidden = dict(bundle, earlier_attempts=[])
    assert "needs its 1 earlier attempt" in refused(verify(store, hidden, tmp_path / "x.json"), "earlier_attempts")
    bundle["earlier_attempts"][0]["seed"] = "dice 3"
    refused(verify(store, bundle, tmp_path / "x.json", "--log", log, "--expect-head", head), "earlier_attempts[0].seed")
    # the voided draw's own bundle says it is void, in JSON and text
    void = store("verify", export(store, first, tmp_path / "b1.json") and tmp_path / "b1.json", "--json").json()
    assert void["state"] == "void" and void["void"]["reason"] == "名录库数据有误"
    text = store("verify", tmp_path / "b1.json")
    assert text.code == 0 and "state: VOID" in text.err and "名录库数据有误" in text.err


def test_a_removed_stratum_a_fractional_size_and_hidden_teams_are_refused(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    bundle = export(store, draw, tmp_path / "b.json")
    # a whole stratum removed, parameters and digests recomputed: the task's ratios still name it
    from shuangsuiji.domain import bundle as bundles
    cut = json.loads(json.dumps(bundle))
    gone = cut["strata"].pop()["name"]
    cut["parameters"]["strata"] = [p for p in cut["parameters"]["strata"] if p["name"] != gone]
    cut["parameters_sha256"] = bundles.parameters_digest(cut["parameters"])
    cut["population_sha256"] = bundles.combined_digest({s["name"]: s["population_sha256"] for s in cut["strata"]})
    assert gone in refused(verify(store, cut, tmp_path / "x.json"), "parameters.strata")
    # size 241.0 for 241
    frac = json.loads(json.dumps(bundle))
    frac["strata"][0]["size"] = float(frac["strata"][0]["size"])
    assert "whole number" in refused(verify(store, frac, tmp_path / "x.json"), f"strata[{frac['strata'][0]['name']}].size")
    # inspectors: null while the draw's audit entries record the teams
    hidden = dict(bundle, inspectors=None)
    assert "records the officers" in refused(verify(store, hidden, tmp_path / "x.json"), "inspectors")
    # ... and with the reference removed too, the log still has it
    hidden["audit"] = [a for a in bundle["audit"] if a["command"] != "draws inspectors"]
    assert verify(store, hidden, tmp_path / "x.json").code == 0  # offline, nothing shows it
    log, head = log_and_head(store, tmp_path)
    refused(verify(store, hidden, tmp_path / "x.json", "--log", log, "--expect-head", head), "audit")


@pytest.mark.parametrize("edit,field", [
    (lambda b: b["seed"]["provenance"].update(kind="csprng", bits=256), "seed.seed_provenance"),
    (lambda b: b["draw"].update(locked_at="2026-01-01T00:00:00.000000Z"), "draw.locked_at"),
    (lambda b: b["task"].update(name="another name"), None),  # not evidence: the name is not in the definition
])
def test_verify_log_covers_what_the_bundle_only_asserts(store, task, tmp_path, edit, field):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    bundle = export(store, draw, tmp_path / "b.json")
    log, head = log_and_head(store, tmp_path)
    edit(bundle)
    result = verify(store, bundle, tmp_path / "x.json", "--log", log, "--expect-head", head)
    if field is None:
        assert result.code == 0
    else:
        refused(result, field)


def test_verify_log_needs_a_published_head_and_refuses_a_rewritten_log(store, task, tmp_path):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    export(store, draw, tmp_path / "b.json")
    log, head = log_and_head(store, tmp_path)
    assert store("verify", tmp_path / "b.json", "--log", log).code == 2
    data = json.loads(log.read_text(encoding="utf-8"))
    data["entries"][-1]["payload"]["seed"] = "another seed"
    log.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "hash" in refused(store("verify", tmp_path / "b.json", "--json", "--log", log, "--expect-head", head), "log")
    other = "1:" + "0" * 64
    assert store("verify", tmp_path / "b.json", "--log", log, "--expect-head", other).code == 3


def test_a_forged_bundle_resealed_in_an_archive_fails_against_the_archives_own_entries(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    out = tmp_path / "a.zip"
    assert store("archive", draw, "-o", out).code == 0

    def forge(files):
        bundle = json.loads(files["draw/bundle.json"])
        seed = "a seed I like"
        for stratum in bundle["strata"]:
            stratum["selected"] = [{"id": s.id, "ticket": s.ticket} for s in sample(stratum["population"], seed, stratum["take"])]
        bundle["seed"]["value"] = seed
        bundle["inspectors"] = None
        bundle["audit"] = [a for a in bundle["audit"] if a["command"] != "draws inspectors"]
        files["draw/bundle.json"] = (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode()
        fix_manifest(files, "draw/bundle.json")

    forged = rewrite(out, tmp_path / "forged.zip", forge)
    from shuangsuiji.domain import bundle as bundles
    assert bundles.verify(json.loads(zipped(forged, "draw/bundle.json")))  # the bundle alone is self-consistent
    result = store("archive", "verify", forged, "--json")
    assert result.code == 3
    [problem] = [p for p in result.json()["problems"] if p["file"] == "draw/bundle.json"]
    assert problem["field"] == "audit" and "left out of the bundle" in problem["message"]
    # the forger keeps the reference: then the seed disagrees with the archived `draws run` entry
    def forge_keeping_refs(files):
        forge(files)
        bundle = json.loads(files["draw/bundle.json"])
        bundle["audit"] = json.loads(zipped(out, "draw/bundle.json"))["audit"]
        bundle["inspectors"] = None
        files["draw/bundle.json"] = (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode()
        fix_manifest(files, "draw/bundle.json")

    result = store("archive", "verify", rewrite(out, tmp_path / "forged2.zip", forge_keeping_refs), "--json")
    assert result.code == 3
    assert [p["field"] for p in result.json()["problems"] if p["file"] == "draw/bundle.json"] == ["inspectors"]


def zipped(path, name):
    import zipfile
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


# ---------------------------------------------------------------- seed shopping


def future_round(minutes: int = 60) -> str:
    genesis, period = BEACONS["drand quicknet"]
    now = datetime.now(timezone.utc).timestamp()
    return f"drand quicknet round {int((now + minutes * 60 - genesis) // period) + 1}"


def test_commit_prints_and_writes_the_commitment_and_verify_checks_a_bundle_against_it(store, task, tmp_path):
    out = tmp_path / "commitment.json"
    committed = store("draws", "commit", task, "--dice", "2026-12-01 会议室", "--beacon", future_round(), "-o", out)
    assert committed.code == 0, committed.err
    published = json.loads(out.read_text(encoding="utf-8"))
    assert published["format"] == "shuangsuiji-commitment" and published["population_sha256"] in committed.out
    assert {"draw", "task", "population_sha256", "parameters_sha256", "sources", "committed_at", "audit_head"} <= set(published)
    beacon = "ab" * 32
    ran = store("draws", "run", task, "--dice", "31415926535897932384", "--beacon-value", beacon, "--json")
    assert ran.code == 0, ran.err
    bundle = export(store, ran.json()["draw"], tmp_path / "b.json")
    ok = store("verify", tmp_path / "b.json", "--commitment", out, "--json")
    assert ok.code == 0 and ok.json()["commitment"] == "matches"
    bundle["seed"]["commitment"]["committed_at"] = "2026-01-01T00:00:00.000000Z"
    refused(verify(store, bundle, tmp_path / "x.json", "--commitment", out), "seed.commitment.committed_at")
    # a given-seed draw against a commitment: refused
    other = dict(published, draw="elsewhere")
    out.write_text(json.dumps(other), encoding="utf-8")
    refused(store("verify", tmp_path / "b.json", "--commitment", out, "--json"), "commitment.draw")


@pytest.mark.parametrize("label,message", [
    ("drand quicknet round 12345678", "not in the future"),
    ("my beacon round 5", "beacon must be written"),
])
def test_a_beacon_round_not_in_the_future_or_unknown_is_refused(store, task, label, message):
    result = store("draws", "commit", task, "--beacon", label)
    assert result.code == 2 and message in result.err
    assert store("draws", "list", "--json").json() == []


def test_a_beacon_value_is_checked_for_format(store, task):
    assert store("draws", "commit", task, "--beacon", future_round()).code == 0
    result = store("draws", "run", task, "--beacon-value", "8f2e5c")
    assert result.code == 2 and "64 hex digits" in result.err


def test_voiding_a_draw_with_officers_takes_a_second_operator(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    assert store("draws", "void", draw, "--yes").code == 2  # no reason
    requested = store("--operator", "alice", "draws", "void", draw, "--reason", "名录有误", "--yes", "--json")
    assert requested.code == 0 and requested.json()["state"] == "void requested"
    assert requested.json()["built_on"] == ["officers"]
    assert store("draws", "show", draw, "--json").json()["state"] == "locked"
    same = store("--operator", "alice", "draws", "void", draw, "--confirm", "--yes")
    assert same.code == 2 and "different operator" in same.err
    done = store("--operator", "bob", "draws", "void", draw, "--confirm", "--yes", "--json")
    assert done.code == 0 and done.json()["state"] == "void" and done.json()["requested_by"] == "alice"
    logged = [e for e in store("audit", "log", "--command", "draws void", "--json").json()]
    assert [(e["command"], e["operator"]) for e in logged] == [("draws void-request", "alice"), ("draws void", "bob")]
    assert logged[1]["payload"]["request_seq"] == logged[0]["seq"]
    assert store("db", "check").code == 0
    # reports list the void, who requested and who confirmed it
    [void] = store("reports", "year", "2026", "--json").json()["voids"]
    assert (void["draw"], void["reason"], void["requested_by"], void["voided_by"]) == (draw, "名录有误", "alice", "bob")
    assert store("reports", "year", "2026", "--format", "html", "-o", tmp_path / "y.html").code == 0
    assert "名录有误" in (tmp_path / "y.html").read_text(encoding="utf-8")


def test_a_draw_without_officers_is_voided_by_one_operator(store, task):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert store("draws", "void", draw, "--reason", "测试", "--yes", "--json").json()["state"] == "void"


def test_secret_hash_drops_one_final_newline_and_a_failed_reveal_is_logged(store, task, tmp_path):
    piped = run_process("draws", "secret-hash", stdin="lz-scjg-7f3a\n")
    assert piped.code == 0 and piped.out.strip() == hashlib.sha256(b"lz-scjg-7f3a").hexdigest()
    (tmp_path / "s.txt").write_text("lz-scjg-7f3a\n", encoding="utf-8")
    assert run_process("draws", "secret-hash", "--secret-file", str(tmp_path / "s.txt")).out.strip() == piped.out.strip()
    assert store("draws", "commit", task, "--department", "SCJG", "--department", "RS").code == 0
    assert store("draws", "contribute", task, "--dept", "SCJG", "--commit", piped.out.strip()).code == 0
    # committed as `echo secret | sha256sum` makes it: the newline is part of the secret, and accepted
    trapped = hashlib.sha256(b"rs-secret\n").hexdigest()
    assert store("draws", "contribute", task, "--dept", "RS", "--commit", trapped).code == 0
    wrong = store("draws", "reveal", task, "--dept", "SCJG", "--secret", "guess")
    assert wrong.code == 3 and "recorded as audit entry" in wrong.err
    [entry] = store("audit", "log", "--command", "draws reveal-mismatch", "--json").json()
    assert entry["payload"]["department"] == "SCJG" and entry["payload"]["given_sha256"] == hashlib.sha256(b"guess").hexdigest()
    assert store("draws", "reveal", task, "--dept", "SCJG", "--secret-file", tmp_path / "s.txt").code == 0
    assert store("draws", "reveal", task, "--dept", "RS", "--secret", "rs-secret").code == 0
    ran = store("draws", "run", task, "--json")
    assert ran.code == 0, ran.err
    bundle = export(store, ran.json()["draw"], tmp_path / "b.json")
    assert store("verify", tmp_path / "b.json").code == 0
    assert {c["department"]: c["secret"] for c in bundle["seed"]["contributions"]}["RS"] == "rs-secret\n"


# ---------------------------------------------------------------- bad input gets a named refusal


def test_a_bundle_nested_100000_deep_is_refused_named(store, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = store("verify", path, "--json")
    assert result.code == 3 and "nested deeper than 32" in result.json()["message"]
    # brackets inside text do not count
    from shuangsuiji.domain.bundle import parse
    assert parse(json.dumps({"a": "[" * 1000})) == {"a": "[" * 1000}


def test_bundle_log_commitment_and_secret_files_are_read_under_the_size_limit(tmp_path):
    # Every file verify and the secret commands read is size-capped (SHUANGSUIJI_MAX_FILE_MB), named, exit 1.
    big = tmp_path / "big.json"
    big.write_text("[" + " " * (2 << 20) + "]", encoding="utf-8")
    capped = {"SHUANGSUIJI_MAX_FILE_MB": "1"}
    for args in (("verify", big), ("verify", big, "--commitment", big), ("draws", "secret-hash", "--secret-file", big)):
        result = run_process(*args, env=capped)
        assert result.code == 1 and "SHUANGSUIJI_MAX_FILE_MB" in result.err and "internal error" not in result.err, args
    assert run_process("verify", tmp_path, env=capped).code == 1  # a folder: named, not a crash


def test_an_archived_bundle_nested_too_deep_is_named(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    out = tmp_path / "a.zip"
    assert store("archive", draw, "-o", out).code == 0

    def deepen(files):
        files["draw/bundle.json"] = b"[" * 100_000 + b"]" * 100_000
        fix_manifest(files, "draw/bundle.json")

    result = store("archive", "verify", rewrite(out, tmp_path / "deep.zip", deepen), "--json")
    assert result.code == 3 and "internal error" not in result.err
    assert [(p["file"], p["field"]) for p in result.json()["problems"]] == [("draw/bundle.json", "bundle")]


def test_offline_verify_checks_the_seed_commitment_a_forger_edits(store, task, tmp_path):
    """第九条: a committed draw's bundle carries the commitment; `verify` alone (no log, no published
    commitment) refuses one edited to fit another population, a secret that is not the committed
    one, and a source list that is not the revealed parts."""
    assert store("draws", "commit", task, "--department", "SCJG").code == 0
    secret = "lz-scjg-boundary"
    commit = hashlib.sha256(secret.encode()).hexdigest()
    assert store("draws", "contribute", task, "--dept", "SCJG", "--commit", commit).code == 0
    assert store("draws", "reveal", task, "--dept", "SCJG", "--secret", secret).code == 0
    ran = store("draws", "run", task, "--json")
    assert ran.code == 0, ran.err
    bundle = export(store, ran.json()["draw"], tmp_path / "b.json")
    assert store("verify", tmp_path / "b.json", "--json").code == 0
    for key in ("population_sha256", "parameters_sha256"):
        forged = json.loads(json.dumps(bundle))
        forged["seed"]["commitment"][key] = "0" * 64
        refused(verify(store, forged, tmp_path / "x.json"), f"seed.commitment.{key}")
    forged = json.loads(json.dumps(bundle))
    forged["seed"]["contributions"][0]["secret"] = "another secret"
    refused(verify(store, forged, tmp_path / "x.json"), "seed.contributions[0]")
    forged = json.loads(json.dumps(bundle))
    forged["seed"]["commitment"]["sources"] = []
    refused(verify(store, forged, tmp_path / "x.json"), "seed.provenance")
