"""Benchmark a 1,000,000-entity draw end to end through the CLI (design.md §4).

    python bench/bench_draw_cli.py [--rows 1000000] [--ratio 0.01] [--repeat 3] [--pg postgresql://…/postgres]

Builds (once per run, in a temporary store) a directory from bench/make_directory.py, the
shipped checklist and an ad hoc task over the whole directory, then runs --repeat pairs,
interleaved (the order alternates within each pair; the machine drifts, so only ratios measured
side by side count):
- `shuangsuiji draws run TASK --seed …` as a subprocess: freeze, draw, lock (each on a fresh
  copy of the prepared store);
- `consistent_sampler.sampler` producing the identical lists (asserted) on the same ids;
- the fixed cost: `draws run` of a tiny task (a 20-entity directory) end to end, in a store of
  its own: start-up, queries, freeze, lock — what every draw pays whatever its size.
Then our draw core (`domain.draw.sample_strata`) on the same strata in this process, and
`shuangsuiji draws export` and `shuangsuiji verify` of the bundle (verify --repeat times).
Figures are medians with min–max; ratios are taken per pair and printed for every pair.
With --pg (a PostgreSQL server URL whose user may create databases) the stores are databases
of that server instead of SQLite files, and each fresh copy is `CREATE DATABASE … TEMPLATE`
of the prepared one (all are dropped at the end).
The package's bytecode is compiled first, as `pip install` does (this machine sets
PYTHONDONTWRITEBYTECODE, so an editable install would otherwise compile every module on every run).
Prints one `name value unit` line per figure on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = "20261128 witnessed dice 4 1 6 2 3 5 5 1 2 6 4 3 1 1 5 2 6 3 4 2"


def cli(*args: str, capture: bool = False) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "shuangsuiji", *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


PG: str | None = None  # the server URL given with --pg
PG_PREFIX = f"bench_draw_{os.getpid()}_"


def pg_database(name: str) -> str:
    """The URL of database ``name`` on the --pg server."""
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(PG)._replace(path="/" + name))


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def prepare(tmp: Path, name: str, data: Path, ratio: str) -> Path | str:
    """A store with the directory of ``data``, the checklist and task BENCH-1 over all of it."""
    if PG:
        db = PG_PREFIX + name
        pg_admin(f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}")
        os.environ["SHUANGSUIJI_DB"] = pg_database(db)
    else:
        db = tmp / f"{name}.db"
        os.environ["SHUANGSUIJI_DB"] = str(db)
    cli("init")
    cli("departments", "import", str(ROOT / "examples" / "lianzhou" / "departments.yaml"))
    cli("objects", "import", "--quiet", str(data))
    cli("checklists", "import", str(ROOT / "checklists" / "lianzhou-joint-checklist.yaml"))
    task = tmp / f"{name}-task.yaml"
    task.write_text(
        "id: BENCH-1\nyear: 2026\nchecklist_version: '2026.1'\nname: 全量不定向抽查（基准测试）\n"
        "checklist_entry: LZ-17\ninitiating: SCJG\ncooperating: [RS, SW]\nscope:\n  directory: {}\n"
        f"ratios: {{A: '{ratio}', B: '{ratio}', C: '{ratio}', D: '{ratio}'}}\n"
        "window: {start: 2026-12-01, end: 2026-12-31}\n",
        encoding="utf-8",
    )
    cli("tasks", "create", "--file", str(task))
    if PG:
        return db
    # Each command ends by closing the store, which folds the WAL into the file: one file to copy.
    assert not Path(f"{db}-wal").exists()
    return db


def timed_draw(prepared: Path | str, copy: Path) -> tuple[float, str]:
    if PG:  # a fresh database from the prepared one, as a file copy is for SQLite
        name = PG_PREFIX + copy.stem.replace("-", "_")
        pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {prepared}", "CHECKPOINT")
        os.environ["SHUANGSUIJI_DB"] = pg_database(name)
    else:
        shutil.copyfile(prepared, copy)
        os.sync()  # the copy's writeback is the bench's, not the draw's: it would stall the draw's commit
        os.environ["SHUANGSUIJI_DB"] = str(copy)
    return cli("draws", "run", "BENCH-1", "--seed", SEED, "--json")


def data_file(rows: int) -> Path:
    data = HERE / "data" / f"objects-{rows}.csv"
    if not data.exists():
        data.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(rows)], check=True)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ratio", default="0.01")
    parser.add_argument("--repeat", type=int, default=3, help="paired runs (median, min–max)")
    parser.add_argument("--pg", metavar="URL", help="stores on this PostgreSQL server instead of SQLite files")
    args = parser.parse_args()
    global PG
    PG = args.pg
    try:
        run(args)
    finally:
        if PG:
            import psycopg

            with psycopg.connect(PG, autocommit=True) as conn:
                for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PG_PREFIX + "%",)).fetchall():
                    conn.execute(f"DROP DATABASE {name}")


def run(args) -> None:
    data, tiny_data = data_file(args.rows), data_file(20)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else str(args.rows)
    import consistent_sampler

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared = prepare(tmp, "prepared", data, args.ratio)
        tiny = prepare(tmp, "tiny", tiny_data, "0.5")
        # One draw first, for the strata (the same ids the tool drew from) and the bundle.
        _, out = timed_draw(prepared, tmp / "first.db")
        bundle = tmp / "bundle.json"
        export_s, _ = cli("draws", "export", json.loads(out)["draw"], "-o", str(bundle))
        strata = json.loads(bundle.read_text(encoding="utf-8"))["strata"]

        def reference() -> float:
            start = time.perf_counter()
            for s in strata:
                ids = list(consistent_sampler.sampler(s["population"], seed=SEED, with_replacement=False, take=s["take"], output="id"))
                assert ids == [x["id"] for x in s["selected"]], s["name"]
            return time.perf_counter() - start

        draws, references, fixed = [], [], []
        for i in range(max(args.repeat, 1)):
            order = [
                lambda: draws.append(timed_draw(prepared, tmp / "draw.db")[0]),
                lambda: references.append(reference()),
                lambda: fixed.append(timed_draw(tiny, tmp / "tiny-draw.db")[0]),
            ]
            for step in order if i % 2 == 0 else order[::-1]:
                step()
        verifies = [cli("verify", str(bundle))[0] for _ in range(max(args.repeat, 1))]

        import numpy  # noqa: F401  (imported before the clock starts: start-up is the fixed cost's, not the core's)

        from shuangsuiji.domain.draw import sample_strata

        start = time.perf_counter()
        drawn = sample_strata({s["name"]: s["population"] for s in strata}, SEED, {s["name"]: s["take"] for s in strata})
        core_s = time.perf_counter() - start
        assert {name: [x.id for x in chosen] for name, chosen in drawn.items()} == {
            s["name"]: [x["id"] for x in s["selected"]] for s in strata
        }
    ratios = [d / r for d, r in zip(draws, references)]
    print(f"draw_{label}_cli {spread(draws, 's')}")
    print(f"consistent_sampler_{label} {spread(references, 's')}")
    print(f"draw_vs_consistent_sampler {spread(ratios, 'x')} pairs: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"draw_fixed_cost_tiny_cli {spread(fixed, 's', 3)}")
    print(f"draw_core_{label} {core_s:.2f} s")
    print(f"draw_core_vs_consistent_sampler {core_s / statistics.median(references):.2f} x")
    print(f"export_{label}_cli {export_s:.2f} s")
    print(f"verify_{label}_cli {spread(verifies, 's')}")


if __name__ == "__main__":
    main()
