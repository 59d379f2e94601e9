"""Team assignment (第十条, 第十一条): teams/2 against teams/1 on the same inputs, in-process.

    PYTHONPATH=src python bench/bench_teams.py [--entities 2000] [--officers 40] [--repeat 5]

Three departments (the initiating one and two cooperating), each with --officers eligible
officers, and --entities drawn entities; every team is drawn under both tie-break rules
(docs/draw-algorithm.md §7). teams/2 breaks each tie in load by a fresh ticket per entity, so it
hashes far more than teams/1. Prints the median and min–max of --repeat runs of each, their
ratio, and a digest of each assignment (the same inputs always give the same teams).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time

from shuangsuiji.domain.teams import TeamDraw, assign_teams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--officers", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    entities = [f"91441882MA{i:08d}" for i in range(args.entities)]
    pools = {d: [f"{d}-{i:03d}" for i in range(args.officers)] for d in ("SCJG", "RS", "SW")}
    medians = {}
    for algorithm in ("teams/1", "teams/2"):
        draw = TeamDraw(seed="27182818284590452353602874", initiating="SCJG", pools=pools,
                        cooperating=["RS", "SW"], algorithm=algorithm)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            assignment = assign_teams(entities, draw)
            times.append(time.perf_counter() - start)
        digest = hashlib.sha256(json.dumps(assignment.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
        medians[algorithm] = statistics.median(times)
        print(f"assign_{algorithm.replace('/', '')} {medians[algorithm]:.3f} s (min {min(times):.3f}, max {max(times):.3f}) teams {digest}")
    print(f"teams2_vs_teams1 {medians['teams/2'] / medians['teams/1']:.2f} x")


if __name__ == "__main__":
    main()
