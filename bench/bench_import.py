"""Benchmark the directory import against a bare sqlite3 executemany (design.md §4).

    python bench/bench_import.py [--rows 1000000] [--repeat 3]

Generates (once) a deterministic objects CSV with bench/make_directory.py, then times:
- `shuangsuiji objects import` end to end, as a subprocess, into a fresh store, --repeat times
  (the machine is noisy: the median is the figure, the min is printed too), and its peak RSS;
- a re-import of the same file (everything unchanged);
- a bare `sqlite3` executemany of the same rows (csv-parsed, no validation) into a table of
  the same shape, in one transaction — the floor any importer stands on;
- `shuangsuiji --help` start-up.
The package's bytecode is compiled first, as `pip install` does (this machine sets
PYTHONDONTWRITEBYTECODE, so an editable install would otherwise compile every module on every run).
Prints one `name value unit` line per figure on stdout.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed_cli(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shuangsuiji", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bare_executemany(csv_path: Path, db: Path) -> float:
    start = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = list(reader)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE entity (uscc TEXT PRIMARY KEY, name TEXT, entity_type TEXT, industry TEXT, region TEXT, "
        "address TEXT, status TEXT, risk_class TEXT, registered_on TEXT)"
    )
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh-store imports to time (median and min)")
    args = parser.parse_args()
    data = HERE / "data" / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else str(args.rows)
    firsts = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(max(args.repeat, 1)):
            db = Path(tmp) / f"bench{i}.db"
            os.environ["SHUANGSUIJI_DB"] = str(db)
            timed_cli("init")
            firsts.append(timed_cli("objects", "import", str(data)))
            if i < args.repeat - 1:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
        # The largest child so far is an import (init is far smaller): its peak resident memory.
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        again = timed_cli("objects", "import", str(data))
        bare = bare_executemany(data, Path(tmp) / "bare.db")
        helps = [timed_cli("--help") for _ in range(5)]
    first = statistics.median(firsts)
    print(f"import_{label}_cli {first:.2f} s")
    print(f"import_{label}_cli_min {min(firsts):.2f} s")
    print(f"import_{label}_peak_rss {peak_mb:.0f} MB")
    print(f"reimport_unchanged_{label}_cli {again:.2f} s")
    print(f"sqlite_executemany_{label} {bare:.2f} s")
    print(f"import_vs_executemany {first / bare:.2f} x")
    print(f"help_startup {min(helps):.3f} s")


if __name__ == "__main__":
    main()
