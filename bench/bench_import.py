"""Benchmark the directory import against bare baselines (design.md §4; issue 17).

    python bench/bench_import.py [--rows 1000000] [--repeat 3] [--data DIR] [--pg URL] [--skip-baselines]

Generates (once) a deterministic objects CSV with bench/make_directory.py in --data (default
bench/data; an existing objects-N.csv there is reused), then runs --repeat pairs, interleaved
(the order alternates within each pair: the machine drifts, so only ratios measured side by
side count):
- `shuangsuiji objects import` end to end, as a subprocess, into a fresh store;
- the like-for-like floor: a bare `sqlite3` executemany of the same rows (csv-parsed, no
  validation) into a table with the SAME columns as the store's `entity` table, whose SAME
  indexes (read from a fresh store's schema) are built AFTER the load, all in ONE transaction,
  with the store's pragmas;
- the older, keyed baseline (kept because it is what the README once quoted): the rows into a
  nine-column table whose primary-key index is kept up to date during the insert;
- with --pg URL (a PostgreSQL server; a database is created and dropped for each run): the same
  import into PostgreSQL, paired with the SQLite import (the ratio PostgreSQL / SQLite).
Then a re-import of the same file into the last store (every row compared, all unchanged), and
`shuangsuiji --help` start-up. Each figure is the median of the pairs with min–max; each ratio is
taken per pair (tool / baseline) and printed for every pair and as their median. Every import's
peak resident memory is its own process's (wait4), printed as the largest of the runs.
The package's bytecode is compiled first, as `pip install` does (this machine sets
PYTHONDONTWRITEBYTECODE, so an editable install would otherwise compile every module on every run).
A run over 500k rows belongs under `flock /work/wt/bench.lock` on the shared machine.
Prints one `name value unit` line per figure on stdout.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


PEAK: dict[str, list[float]] = {}  # peak resident MB of each run, by what ran


def timed_cli(*args: str, env: dict | None = None, peak: str | None = None) -> float:
    """Run the CLI as its own process; its wall time (its peak memory goes to PEAK[peak])."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "shuangsuiji", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if args[-1] == "init" else None, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"shuangsuiji {' '.join(args)} failed")
    if peak:
        PEAK.setdefault(peak, []).append(usage.ru_maxrss / 1024)
    return seconds


class PgDatabases:
    """A fresh database on the --pg server for each run, dropped after it."""

    def __init__(self, server: str):
        import psycopg

        self.server, self.n = server, 0
        self.admin = psycopg.connect(server, autocommit=True)

    def create(self) -> str:
        self.n += 1
        name = f"bench_import_{os.getpid()}_{self.n}"
        self.admin.execute(f"DROP DATABASE IF EXISTS {name}")
        self.admin.execute(f"CREATE DATABASE {name}")
        base, _, _ = self.server.rpartition("/")
        return f"{base}/{name}"

    def drop(self, url: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {url.rpartition('/')[2]} WITH (FORCE)")


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


def baseline(kind: str, csv_path: Path, db: Path, schema_db: Path) -> float:
    """A bare baseline as its own process, timed whole as the tool is (and so that the rows it
    reads are not in this process, whose memory every later child would start with)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--baseline", kind, str(csv_path), str(db), str(schema_db)], check=True)
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
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where objects-N.csv is (made there if absent)")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL: also import there, paired with SQLite")
    parser.add_argument("--skip-baselines", action="store_true", help="no bare executemany runs (with --pg: only the two stores)")
    parser.add_argument("--baseline", nargs=4, metavar=("KIND", "CSV", "DB", "SCHEMA_DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:  # the child process of baseline()
        kind, csv_path, db, schema_db = args.baseline[0], *map(Path, args.baseline[1:])
        bare_equivalent(csv_path, db, store_schema(schema_db)) if kind == "equivalent" else bare_keyed(csv_path, db)
        return
    data = args.data / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else str(args.rows)
    # 18 million rows are past the default limits (docs/reliability.md): raised for the benchmark.
    limits = {"SHUANGSUIJI_MAX_ROWS": str(args.rows + 1), "SHUANGSUIJI_MAX_FILE_MB": str((data.stat().st_size >> 20) + 1)}
    pg = PgDatabases(args.pg) if args.pg else None
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db, schema_db = tmp / "bench.db", tmp / "schema.db"
        timed_cli("--db", str(schema_db), "init")  # the store's own `entity` table, for the equivalent baseline
        steps = {"import_sqlite": None}
        if not args.skip_baselines:
            steps["executemany_equivalent"] = lambda: baseline("equivalent", data, tmp / "equivalent.db", schema_db)
            steps["executemany_keyed"] = lambda: baseline("keyed", data, tmp / "keyed.db", schema_db)
        if pg:
            steps["import_pg"] = None
        for i in range(max(args.repeat, 1)):
            last = i == args.repeat - 1
            for name in list(steps) if i % 2 == 0 else list(steps)[::-1]:
                if name == "import_sqlite":
                    remove(db)
                    timed_cli("--db", str(db), "init")
                    seconds = timed_cli("--db", str(db), "objects", "import", "--quiet", str(data), env=limits, peak=name)
                elif name == "import_pg":
                    url = pg.create()
                    timed_cli("--db", url, "init")
                    seconds = timed_cli("--db", url, "objects", "import", "--quiet", str(data), env=limits, peak=name)
                    if last:
                        pg_url = url
                    else:
                        pg.drop(url)
                else:
                    seconds = steps[name]()
                    remove(tmp / "equivalent.db")
                    remove(tmp / "keyed.db")
                times.setdefault(name, []).append(seconds)
        again = {"sqlite": timed_cli("--db", str(db), "objects", "import", "--quiet", str(data), env=limits, peak="reimport_sqlite")}
        if pg:
            again["pg"] = timed_cli("--db", pg_url, "objects", "import", "--quiet", str(data), env=limits, peak="reimport_pg")
            pg.drop(pg_url)
        helps = [timed_cli("--help") for _ in range(5)]
    tool = times["import_sqlite"]
    print(f"import_{label}_sqlite {spread(tool, 's')}")
    for name, short in (("executemany_equivalent", "equivalent"), ("executemany_keyed", "keyed"), ("import_pg", "pg")):
        if name in times:
            ratios = [b / a if name == "import_pg" else a / b for a, b in zip(tool, times[name])]
            what = "pg_vs_sqlite" if name == "import_pg" else f"import_vs_{short}"
            print(f"{name}_{label} {spread(times[name], 's')}")
            print(f"{what} {spread(ratios, 'x')} pairs: {' '.join(f'{r:.2f}' for r in ratios)}")
    for name, values in PEAK.items():
        print(f"{name}_{label}_peak_rss {max(values):.0f} MB (runs: {' '.join(f'{v:.0f}' for v in values)})")
    for store, seconds in again.items():
        print(f"reimport_unchanged_{label}_{store} {seconds:.2f} s")
    print(f"help_startup {min(helps):.3f} s")


if __name__ == "__main__":
    main()
