"""Benchmark the draw core against consistent_sampler 1.0.10 on 1,000,000 ids (design.md §4).

    PYTHONPATH=src python bench/bench_draw_core.py [--n 1000000] [--ratio 0.01]

Prints one `name value unit` line per figure on stdout; notes go to stderr. Both sides must
produce the identical list (asserted), so the speedup is for the same answer.
"""

from __future__ import annotations

import argparse
import sys
import time

import consistent_sampler

from shuangsuiji.domain.draw import allocate, sample, sample_strata

SEED = "73401462095834117263"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of ids")
    parser.add_argument("--ratio", default="0.01", help="sampling ratio (k = ceil(n * ratio))")
    args = parser.parse_args()
    n = args.n
    suffix = "1m" if n == 1_000_000 else str(n)
    ids = [f"91441882{i:09d}X" for i in range(n)]  # 18-character, code-like
    k = allocate(n, args.ratio)
    print(f"{n} ids, k = {k}, seed {SEED!r}", file=sys.stderr)

    ours_s, ours = timed(lambda: sample(ids, SEED, k))
    print(f"draw_core_{suffix} {ours_s:.2f} s", flush=True)

    theirs_s, theirs = timed(
        lambda: list(consistent_sampler.sampler(ids, seed=SEED, with_replacement=False, take=k, output="id"))
    )
    assert [s.id for s in ours] == theirs, "draw core and consistent_sampler disagree"
    print(f"consistent_sampler_{suffix} {theirs_s:.2f} s", flush=True)
    print(f"speedup {theirs_s / ours_s:.1f} x", flush=True)

    # Stratified by credit-risk class (第九条), a plausible shape: classes A/B/C/D hold
    # 30/55/12/3 % of the ids and are drawn at 1 %, 3 %, 10 % and 100 %.
    bounds = {"A": (0, 30), "B": (30, 85), "C": (85, 97), "D": (97, 100)}
    ratios = {"A": "0.01", "B": "0.03", "C": "0.1", "D": "1"}
    strata = {c: ids[n * lo // 100 : n * hi // 100] for c, (lo, hi) in bounds.items()}
    takes = {c: allocate(len(members), ratios[c]) for c, members in strata.items()}
    strata_s, drawn = timed(lambda: sample_strata(strata, SEED, takes))
    assert {c: len(sel) for c, sel in drawn.items()} == takes
    print(f"{sum(takes.values())} drawn over 4 strata", file=sys.stderr)
    print(f"draw_core_strata_{suffix} {strata_s:.2f} s", flush=True)


if __name__ == "__main__":
    main()
