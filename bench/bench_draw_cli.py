"""Benchmark a 1,000,000-entity draw end to end through the CLI (design.md §4).

    python bench/bench_draw_cli.py [--rows 1000000] [--ratio 0.01] [--repeat 3]

Builds (once per run, in a temporary store) a directory from bench/make_directory.py, the
shipped checklist and an ad hoc task over the whole directory, then times:
- `shuangsuiji draws run TASK --seed …` as a subprocess: freeze, draw, lock;
- `consistent_sampler.sampler` producing the identical lists (asserted) from the same strata,
  and our draw core (`domain.draw.sample_strata`) on the same strata, in this process;
- `shuangsuiji draws export` and `shuangsuiji verify` of that bundle.
Draw and verify run --repeat times (each draw on a fresh copy of the prepared store); the
machine is noisy, so the figures are medians, with the min printed too.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ratio", default="0.01")
    parser.add_argument("--repeat", type=int, default=3, help="draws and verifies to time (median and min)")
    args = parser.parse_args()
    data = HERE / "data" / f"objects-{args.rows}.csv"
    if not data.exists():
        data.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_directory.py"), str(data), "--rows", str(args.rows)], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "shuangsuiji")], check=True)
    label = f"{args.rows // 1_000_000}m" if args.rows % 1_000_000 == 0 else str(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["SHUANGSUIJI_DB"] = str(tmp / "bench.db")
        cli("init")
        cli("departments", "import", str(ROOT / "examples" / "lianzhou" / "departments.yaml"))
        cli("objects", "import", str(data))
        cli("checklists", "import", str(ROOT / "checklists" / "lianzhou-joint-checklist.yaml"))
        task = tmp / "task.yaml"
        ratio = args.ratio
        task.write_text(
            "id: BENCH-1\nyear: 2026\nchecklist_version: '2026.1'\nname: 全量不定向抽查（基准测试）\n"
            "checklist_entry: LZ-17\ninitiating: SCJG\ncooperating: [RS, SW]\nscope:\n  directory: {}\n"
            f"ratios: {{A: '{ratio}', B: '{ratio}', C: '{ratio}', D: '{ratio}'}}\n"
            "window: {start: 2026-12-01, end: 2026-12-31}\n",
            encoding="utf-8",
        )
        cli("tasks", "create", "--file", str(task))
        # Each command ends by closing the store, which folds the WAL into the file: one file to copy.
        assert not (tmp / "bench.db-wal").exists()
        prepared = tmp / "prepared.db"
        shutil.copyfile(tmp / "bench.db", prepared)
        draws = []
        for i in range(max(args.repeat, 1)):
            db = tmp / f"draw{i}.db"
            shutil.copyfile(prepared, db)
            os.sync()  # the copy's writeback is the bench's, not the draw's: it would stall the draw's commit
            os.environ["SHUANGSUIJI_DB"] = str(db)
            draw_s, out = cli("draws", "run", "BENCH-1", "--seed", SEED, "--json")
            draws.append(draw_s)
        draw_id = json.loads(out)["draw"]
        bundle = tmp / "bundle.json"
        export_s, _ = cli("draws", "export", draw_id, "-o", str(bundle))
        verifies = [cli("verify", str(bundle))[0] for _ in range(max(args.repeat, 1))]
        draw_s, verify_s = statistics.median(draws), statistics.median(verifies)

        import consistent_sampler

        strata = json.loads(bundle.read_text(encoding="utf-8"))["strata"]
        start = time.perf_counter()
        for s in strata:
            ids = list(consistent_sampler.sampler(s["population"], seed=SEED, with_replacement=False, take=s["take"], output="id"))
            assert ids == [x["id"] for x in s["selected"]], s["name"]
        reference_s = time.perf_counter() - start

        from shuangsuiji.domain.draw import sample_strata

        start = time.perf_counter()
        drawn = sample_strata({s["name"]: s["population"] for s in strata}, SEED, {s["name"]: s["take"] for s in strata})
        core_s = time.perf_counter() - start
        assert {name: [x.id for x in chosen] for name, chosen in drawn.items()} == {
            s["name"]: [x["id"] for x in s["selected"]] for s in strata
        }
    print(f"draw_{label}_cli {draw_s:.2f} s")
    print(f"draw_{label}_cli_min {min(draws):.2f} s")
    print(f"consistent_sampler_{label} {reference_s:.2f} s")
    print(f"draw_speedup {reference_s / draw_s:.1f} x")
    print(f"draw_core_{label} {core_s:.2f} s")
    print(f"draw_core_speedup {reference_s / core_s:.1f} x")
    print(f"export_{label}_cli {export_s:.2f} s")
    print(f"verify_{label}_cli {verify_s:.2f} s")
    print(f"verify_{label}_cli_min {min(verifies):.2f} s")
    print(f"verify_vs_draw {verify_s / draw_s:.2f} x")


if __name__ == "__main__":
    main()
