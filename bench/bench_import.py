"""Benchmark the directory import against bare sqlite3 executemany baselines (design.md §4).

    python bench/bench_import.py [--rows 1000000] [--repeat 3]

Generates (once) a deterministic objects CSV with bench/make_directory.py, then runs --repeat
pairs, interleaved (the order alternates within each pair: the machine drifts, so only ratios
measured side by side count):
- `shuangsuiji objects import` end to end, as a subprocess, into a fresh store;
- the like-for-like floor: a bare `sqlite3` executemany of the same rows (csv-parsed, no
  validation) into a table with the SAME columns as the store's `entity` table, whose SAME
  indexes (read from a fresh store's schema) are built AFTER the load, all in ONE transaction,
  with the store's pragmas;
- the older, keyed baseline (kept because it is what the README once quoted): the rows into a
  nine-column table whose primary-key index is kept up to date during the insert.
Then a re-import of the same file (everything unchanged), the import's peak RSS and
`shuangsuiji --help` start-up. Each figure is the median of the pairs with min–max; each ratio
is taken per pair (tool / baseline) and printed for every pair and as their median.
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


def read_rows(csv_path: Path) -> list[list[str]]:
    with open(csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return list(reader)


def store_schema(db: Path) -> tuple[str, list[str]]:
    """The `entity` table's CREATE statement and its indexes' in a fresh store: the equivalent table."""
    conn = sqlite3.connect(db)
    table = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entity'").fetchone()[0]
    indexes = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entity' AND sql IS NOT NULL")]
    conn.close()
    return table, indexes


def bare_equivalent(csv_path: Path, db: Path, schema: tuple[str, list[str]]) -> float:
    """Same columns, same indexes built after the load, one transaction, the store's pragmas."""
    start = time.perf_counter()
    rows = read_rows(csv_path)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -131072")
    table, indexes = schema
    conn.execute("BEGIN")
    conn.execute(table)
    now = "2026-01-01T00:00:00Z"
    conn.executemany(
        "INSERT INTO entity (uscc, name, entity_type, industry, region, address, status, risk_class, registered_on, "
        f"attributes, in_directory, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{{}}', 1, '{now}')",
        rows,
    )
    for sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def bare_keyed(csv_path: Path, db: Path) -> float:
    """The older baseline: nine columns, the primary-key index kept up to date during the insert."""
    start = time.perf_counter()
    rows = read_rows(csv_path)
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


def remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="paired runs (median, min–max)")
    args = parser.parse_args()
    data = HERE / "data" / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else str(args.rows)
    tool, equivalent, keyed = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        schema_db = tmp / "schema.db"
        os.environ["SHUANGSUIJI_DB"] = str(schema_db)
        timed_cli("init")
        schema = store_schema(schema_db)
        for i in range(max(args.repeat, 1)):
            db = tmp / f"bench{i}.db"

            def run_tool() -> None:
                os.environ["SHUANGSUIJI_DB"] = str(db)
                timed_cli("init")
                tool.append(timed_cli("objects", "import", "--quiet", str(data)))

            def run_equivalent() -> None:
                equivalent.append(bare_equivalent(data, tmp / "equivalent.db", schema))
                remove(tmp / "equivalent.db")

            def run_keyed() -> None:
                keyed.append(bare_keyed(data, tmp / "keyed.db"))
                remove(tmp / "keyed.db")

            order = [run_tool, run_equivalent, run_keyed]
            for step in order if i % 2 == 0 else order[::-1]:
                step()
            if i < args.repeat - 1:
                remove(db)
        # The largest child so far is an import (init is far smaller): its peak resident memory.
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        again = timed_cli("objects", "import", "--quiet", str(data))
        helps = [timed_cli("--help") for _ in range(5)]
    vs_equivalent = [a / b for a, b in zip(tool, equivalent)]
    vs_keyed = [a / b for a, b in zip(tool, keyed)]
    print(f"import_{label}_cli {spread(tool, 's')}")
    print(f"sqlite_executemany_equivalent_{label} {spread(equivalent, 's')}")
    print(f"sqlite_executemany_keyed_{label} {spread(keyed, 's')}")
    print(f"import_vs_equivalent {spread(vs_equivalent, 'x')} pairs: {' '.join(f'{r:.2f}' for r in vs_equivalent)}")
    print(f"import_vs_keyed {spread(vs_keyed, 'x')} pairs: {' '.join(f'{r:.2f}' for r in vs_keyed)}")
    print(f"import_{label}_peak_rss {peak_mb:.0f} MB")
    print(f"reimport_unchanged_{label}_cli {again:.2f} s")
    print(f"help_startup {min(helps):.3f} s")


if __name__ == "__main__":
    main()
