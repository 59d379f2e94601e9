"""Province scale (design.md §4): the draw path once at N entities, each step timed with its peak memory.

    python bench/bench_scale.py [--rows 18000000] [--ratio 0.01] [--dir DIR] [--repeat 1] [--data DIR] [--pg URL] [--import-only]

A directory of N entities from bench/make_directory.py (written once, kept in bench/data/),
imported into a fresh store under DIR (a temporary directory unless given; it needs about
0.6 GB of disk per million entities), then, each as its own CLI process: `objects import`,
`tasks create` (an ad hoc task over the whole directory), `draws run`, `draws export` and
`verify`. docs/scale.md reads these figures against its plan.
The draw runs --repeat times (each after voiding the one before: a fresh freeze, draw and lock),
each paired with `consistent_sampler` drawing from the same ids (read from the first bundle;
the order alternates within each pair), and `verify` --repeat times: medians with min–max, and
the draw's ratio to consistent_sampler pair by pair. With --pg URL the store is a new database
of that PostgreSQL server (dropped at the end) instead of a SQLite file. With --import-only: the
first import and a re-import of the same file (every row compared, all unchanged), each with its
peak memory.
Prints one `name value unit` line per figure on stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = "20261202 witnessed dice 6 2 4 4 1 3 5 2 6 1 1 4 3 5 2 6 2 3 1 4"


def step(*args: str) -> tuple[float, float]:
    """Run one CLI command; its wall time in seconds and its peak resident memory in MB."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "shuangsuiji", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"shuangsuiji {' '.join(args)} exited with {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    return f"{statistics.median(values):.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


REFERENCE = """
import json, sys, time
import consistent_sampler
strata = json.loads(open(sys.argv[1], "rb").read())["strata"]
start = time.perf_counter()
for s in strata:
    ids = list(consistent_sampler.sampler(s["population"], seed=sys.argv[2], with_replacement=False, take=s["take"], output="id"))
    assert ids == [x["id"] for x in s["selected"]], s["name"]
print(time.perf_counter() - start)
"""


def reference(bundle: Path, seed: str) -> float:
    """consistent_sampler over the bundle's strata (asserting the same lists); its seconds.

    In a process of its own: the bundle loaded here would otherwise count in the peak memory the
    kernel reports for every later step (a child starts as a copy of this process)."""
    done = subprocess.run([sys.executable, "-c", REFERENCE, str(bundle), seed], check=True, capture_output=True, text=True)
    return float(done.stdout)


def pg_admin(server: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=18_000_000)
    parser.add_argument("--ratio", default="0.01")
    parser.add_argument("--dir", type=Path, help="where the store and the bundle go (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=1, help="draws (each paired with consistent_sampler) and verifies")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL: the store is a new database of it")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where objects-N.csv is (made there if absent)")
    parser.add_argument("--import-only", action="store_true", help="only the import and a re-import of the same file")
    args = parser.parse_args()
    database = f"bench_scale_{os.getpid()}"
    if args.pg:
        from urllib.parse import urlsplit, urlunsplit

        pg_admin(args.pg, f"CREATE DATABASE {database}")
    try:
        run(args, urlunsplit(urlsplit(args.pg)._replace(path="/" + database)) if args.pg else None)
    finally:
        if args.pg:
            pg_admin(args.pg, f"DROP DATABASE IF EXISTS {database}")


def run(args, pg_url: str | None) -> None:
    # A province's directory and bundle are far past the tool's default caps (rows of one file, MB read).
    os.environ.setdefault("SHUANGSUIJI_MAX_ROWS", str(max(args.rows + 1, 1_048_576)))
    os.environ.setdefault("SHUANGSUIJI_MAX_FILE_MB", "8192")
    data = args.data / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows / 1_000_000:g}m"
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        db = tmp / "scale.db"
        os.environ["SHUANGSUIJI_DB"] = pg_url or str(db)
        step("init")
        step("departments", "import", str(ROOT / "examples" / "lianzhou" / "departments.yaml"))
        step("checklists", "import", str(ROOT / "checklists" / "lianzhou-joint-checklist.yaml"))
        figures = {"import": step("objects", "import", "--quiet", str(data))}
        if args.import_only:
            figures["reimport"] = step("objects", "import", "--quiet", str(data))
            for name, (seconds, peak_mb) in figures.items():
                print(f"{name}_{label}{'_pg' if pg_url else ''} {seconds:.1f} s")
                print(f"{name}_{label}{'_pg' if pg_url else ''}_peak_rss {peak_mb:.0f} MB")
            return
        store_mb = db.stat().st_size / 2**20 if not pg_url else None
        task = tmp / "task.yaml"
        task.write_text(
            "id: SCALE-1\nyear: 2026\nchecklist_version: '2026.1'\nname: 全省规模不定向抽查（基准测试）\n"
            "checklist_entry: LZ-17\ninitiating: SCJG\ncooperating: [RS, SW]\nscope:\n  directory: {}\n"
            f"ratios: {{A: '{args.ratio}', B: '{args.ratio}', C: '{args.ratio}', D: '{args.ratio}'}}\n"
            "window: {start: 2026-12-01, end: 2026-12-31}\n",
            encoding="utf-8",
        )
        figures["task_create"] = step("tasks", "create", "--file", str(task))
        bundle = tmp / "bundle.json"
        draws, references = [], []
        for i in range(1, max(args.repeat, 1) + 1):
            if i > 1:
                step("draws", "void", f"SCALE-1-D{i - 1}", "--reason", "基准测试重抽", "--yes")
            pair = [lambda: draws.append(step("draws", "run", "SCALE-1", "--seed", SEED))]
            if i > 1:  # the first draw makes the bundle the reference reads
                pair.append(lambda: references.append(reference(bundle, SEED)))
            for do in pair if i % 2 else pair[::-1]:
                os.sync()  # the last command's writeback is not the next one's
                do()
            if i == 1:
                figures["export"] = step("draws", "export", "SCALE-1-D1", "-o", str(bundle))
                references.append(reference(bundle, SEED))
        bundle_mb = bundle.stat().st_size / 2**20
        verifies = [step("verify", str(bundle)) for _ in range(max(args.repeat, 1))]
    for name, (seconds, peak_mb) in figures.items():
        print(f"{name}_{label} {seconds:.1f} s")
        print(f"{name}_{label}_peak_rss {peak_mb:.0f} MB")
    for name, runs in (("draw", draws), ("verify", verifies)):
        print(f"{name}_{label} {spread([s for s, _ in runs], 's')}")
        print(f"{name}_{label}_peak_rss {spread([m for _, m in runs], 'MB', 0)}")
    ratios = [d / r for (d, _), r in zip(draws, references)]
    print(f"consistent_sampler_{label} {spread(references, 's')}")
    print(f"draw_vs_consistent_sampler_{label} {spread(ratios, 'x', 2)} pairs: {' '.join(f'{r:.2f}' for r in ratios)}")
    if store_mb is not None:
        print(f"store_{label} {store_mb:.0f} MB")
    print(f"bundle_{label} {bundle_mb:.0f} MB")


if __name__ == "__main__":
    main()
