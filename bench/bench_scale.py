"""Province scale (design.md §4): the draw path once at N entities, each step timed with its peak memory.

    python bench/bench_scale.py [--rows 18000000] [--ratio 0.01] [--dir DIR] [--data DIR] [--pg URL] [--import-only]

A directory of N entities from bench/make_directory.py (written once, kept in bench/data/),
imported into a fresh store under DIR (a temporary directory unless given; it needs about
0.6 GB of disk per million entities), then, each as its own CLI process: `objects import`,
`tasks create` (an ad hoc task over the whole directory), `draws run`, `draws export` and
`verify`. With --import-only: the first import and a re-import of the same file (every row
compared, all unchanged), each with its peak memory; with --pg URL the store is a new database
on that PostgreSQL server (dropped after). docs/scale.md reads these figures against its plan.
Prints one `name value unit` line per figure on stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = "20261202 witnessed dice 6 2 4 4 1 3 5 2 6 1 1 4 3 5 2 6 2 3 1 4"


LIMITS: dict[str, str] = {}  # the file and row limits, raised to the benchmark's file


def step(*args: str) -> tuple[float, float]:
    """Run one CLI command; its wall time in seconds and its peak resident memory in MB."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "shuangsuiji", *args], stdout=subprocess.DEVNULL,
                            env={**os.environ, **LIMITS})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"shuangsuiji {' '.join(args)} exited with {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=18_000_000)
    parser.add_argument("--ratio", default="0.01")
    parser.add_argument("--dir", type=Path, help="where the store and the bundle go (default: a temporary directory)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where objects-N.csv is (made there if absent)")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL: the store is a new database there")
    parser.add_argument("--import-only", action="store_true", help="only the import and a re-import of the same file")
    args = parser.parse_args()
    data = args.data / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows / 1_000_000:g}m"
    LIMITS.update(SHUANGSUIJI_MAX_ROWS=str(args.rows + 1), SHUANGSUIJI_MAX_FILE_MB=str((data.stat().st_size >> 20) + 1))
    admin = None
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        db = tmp / "scale.db"
        if args.pg:
            import psycopg

            admin = psycopg.connect(args.pg, autocommit=True)
            name = f"bench_scale_{os.getpid()}"
            admin.execute(f"CREATE DATABASE {name}")
            os.environ["SHUANGSUIJI_DB"] = f"{args.pg.rpartition('/')[0]}/{name}"
        else:
            os.environ["SHUANGSUIJI_DB"] = str(db)
        step("init")
        step("departments", "import", str(ROOT / "examples" / "lianzhou" / "departments.yaml"))
        step("checklists", "import", str(ROOT / "checklists" / "lianzhou-joint-checklist.yaml"))
        figures = {"import": step("objects", "import", "--quiet", str(data))}
        if args.import_only:
            figures["reimport"] = step("objects", "import", "--quiet", str(data))
            if admin:
                admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            for what, (seconds, peak_mb) in figures.items():
                print(f"{what}_{label}{'_pg' if args.pg else ''} {seconds:.1f} s")
                print(f"{what}_{label}{'_pg' if args.pg else ''}_peak_rss {peak_mb:.0f} MB")
            return
        store_mb = db.stat().st_size / 2**20 if not args.pg else 0.0
        task = tmp / "task.yaml"
        task.write_text(
            "id: SCALE-1\nyear: 2026\nchecklist_version: '2026.1'\nname: 全省规模不定向抽查（基准测试）\n"
            "checklist_entry: LZ-17\ninitiating: SCJG\ncooperating: [RS, SW]\nscope:\n  directory: {}\n"
            f"ratios: {{A: '{args.ratio}', B: '{args.ratio}', C: '{args.ratio}', D: '{args.ratio}'}}\n"
            "window: {start: 2026-12-01, end: 2026-12-31}\n",
            encoding="utf-8",
        )
        figures["task_create"] = step("tasks", "create", "--file", str(task))
        os.sync()  # the import's writeback is not the draw's
        figures["draw"] = step("draws", "run", "SCALE-1", "--seed", SEED)
        bundle = tmp / "bundle.json"
        figures["export"] = step("draws", "export", "SCALE-1-D1", "-o", str(bundle))
        bundle_mb = bundle.stat().st_size / 2**20
        figures["verify"] = step("verify", str(bundle))
    for name, (seconds, peak_mb) in figures.items():
        print(f"{name}_{label} {seconds:.1f} s")
        print(f"{name}_{label}_peak_rss {peak_mb:.0f} MB")
    print(f"store_{label} {store_mb:.0f} MB")
    print(f"bundle_{label} {bundle_mb:.0f} MB")


if __name__ == "__main__":
    main()
