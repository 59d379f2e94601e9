"""Turning a user's table into canonical records: every bad row named, or nothing written."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from shuangsuiji.domain import uscc as uscc_rules
from shuangsuiji.domain.directory import Invalid
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji import table_writer
from shuangsuiji.files import replacing
from shuangsuiji.table_reader import Columns, Rows, Table, row_fields

Progress = Callable[[int, int], None]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small rows are built.

    The rows hold no reference cycles, and without this CPython re-scans the growing heap
    over and over: it halves the time of a million-row import.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Parsed:
    records: list[tuple] = field(default_factory=list)  # empty when records went to the store batch by batch
    rejected: list[tuple[Problem, list[str]]] = field(default_factory=list)  # (problem, raw row)
    rows: int = 0  # rows read (blank lines aside)
    unnamed: list[Problem] = field(default_factory=list)  # repeats whose first row name_first_rows names


def parse_rows(
    table: Table,
    parse: Callable[[int, list[str]], tuple | Invalid],
    progress: Progress | None = None,
) -> Parsed:
    """Parse every row; a record's first element is its key, which must be unique in the file."""
    out = Parsed()
    for records in parse_batches(table.file, [table.rows], lambda _rows: parse, out, progress, len(table.rows)):
        out.records += records
    return out


def parse_batches(
    file: str,
    batches: Iterable[Rows],
    parser_for: Callable[[Rows], Callable[[int, list[str]], tuple | Invalid]],
    out: Parsed,
    progress: Progress | None = None,
    total: int | None = None,
    seen: "Keys | None" = None,
) -> Iterator[list[tuple]]:
    """Parse rows a batch at a time, as they are read; yield each batch's valid records.

    ``parser_for(batch)`` gives the parser of one batch (``parse(i, values)`` for its row i).
    Bad rows go to ``out.rejected`` and the count of rows to ``out.rows``; a record's first
    element is its key, which must be unique in the whole file (a repeat is rejected, naming
    the row of the first). ``seen`` keeps the keys so far (every key with its row unless
    given: ``CodeKeys`` for a directory of millions). ``total`` is only the progress bar's estimate.
    """
    rejected = out.rejected
    seen = seen if seen is not None else Keys()
    done = 0
    for rows in batches:
        if progress:
            progress(done, total)
        parse = parser_for(rows)
        records = [parse(i, values) for i, (_, values) in enumerate(rows)]
        numbers = [number for number, _ in rows]
        first_rejected = len(rejected)
        if Invalid in map(type, records):  # only a batch with a bad row is gone through row by row
            good = []
            for (number, values), result in zip(rows, records):
                if isinstance(result, Invalid):
                    rejected.append((Problem(result.zh, result.en, file, number, result.field, result.value), values))
                else:
                    good.append((result, number))
            records, numbers = [r for r, _ in good], [n for _, n in good]
        repeats = seen.add([r[0] for r in records], numbers)
        if repeats:
            raw = dict(rows)
            for j, first in repeats.items():
                problem = _repeat(file, numbers[j], records[j][0], first)
                rejected.append((problem, raw[numbers[j]]))
                if first is None:
                    out.unnamed.append(problem)
            records = [r for j, r in enumerate(records) if j not in repeats]
        if len(rejected) > first_rejected:
            rejected[first_rejected:] = sorted(rejected[first_rejected:], key=lambda r: r[0].row)
        done += len(rows)
        out.rows = done
        yield records
    if progress:
        progress(done, done)


def _repeat(file: str, number: int, key: str, first: int | None) -> Problem:
    """A repeated key; ``first`` None: the row it was first seen on is named later (``name_first_rows``)."""
    return Problem(f"与第 {first} 行重复", f"duplicate of row {first}", file, number, "key", key)


class Keys:
    """Every key so far with the row it was first seen on: exact, for the files read whole."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def add(self, keys: list[str], numbers: list[int]) -> dict[int, int | None]:
        """Add a batch's keys; return {index in the batch: row first seen on} for each repeat."""
        # Set operations in C first (measured on a million rows: 0.25 s, against 1.1 s for a
        # dict.setdefault per row); only a batch with a repeat is gone through row by row.
        if len(set(keys)) == len(keys) and self.rows.keys().isdisjoint(keys):
            self.rows.update(zip(keys, numbers))
            return {}
        repeats = {}
        for j, (key, number) in enumerate(zip(keys, numbers)):
            first = self.rows.setdefault(key, number)
            if first != number:
                repeats[j] = first
        return repeats


class CodeKeys:
    """The unified social credit codes seen so far, in 12 bytes each (not ~100 as a set of strings):
    what keeps the peak memory of an 18-million-row import flat.

    A valid code is fixed by its first 17 characters (the 18th is their check character): the
    first 5 as a number below 31^5, the other 12 below 31^12 < 2^60. Each code is kept as that
    pair, mixed into a 64-bit ``p`` (the 60-bit part XOR a multiple of the 25-bit one, so the pair
    is still exact) and the 25-bit part; in 16 buckets, each a few sorted runs merged as they grow
    (so a merge copies one bucket, not all). A repeat within a batch names its first row at once;
    one of an earlier batch is named by ``name_first_rows``, which reads the file once more.
    """

    BUCKETS = 16

    def __init__(self) -> None:
        import numpy as np  # only for the large directory imports

        self.mix, self.spread, self.top = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(60)
        self.runs: list[list[tuple]] = [[] for _ in range(self.BUCKETS)]  # per bucket: sorted (p, 25-bit part) runs
        self.unnamed: set[str] = set()  # repeated codes whose first row is still to be named
        self.value = np.zeros(256, dtype=np.uint8)
        for c, v in uscc_rules.VALUE.items():
            self.value[ord(c)] = v

    def add(self, keys: list[str], numbers: list[int]) -> dict[int, int | None]:
        import numpy as np

        if not keys:
            return {}
        p, h, bucket = self._encode(keys)
        earlier = self._contains(p, h, bucket)
        repeats: dict[int, int | None] = {int(j): None for j in np.flatnonzero(earlier)}
        if len(set(keys)) != len(keys):
            first: dict[str, int] = {}
            for j, (key, number) in enumerate(zip(keys, numbers)):
                if first.setdefault(key, number) != number and j not in repeats:
                    repeats[j] = first[key]
        self.unnamed.update(keys[j] for j, row in repeats.items() if row is None)
        keep = np.ones(len(keys), dtype=bool)
        keep[list(repeats)] = False
        self._insert(p[keep], h[keep], bucket[keep])
        return repeats

    def contains(self, keys: list[str]) -> list[bool]:
        """For each valid code, whether it was added."""
        return self._contains(*self._encode(keys)).tolist() if keys else []

    def _encode(self, keys: list[str]):
        import numpy as np

        digits = self.value[np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8)].reshape(-1, 18)
        h, lo = digits[:, 0].astype(np.uint64), digits[:, 5].astype(np.uint64)
        for j in range(1, 17):  # base 31, most significant first (Horner)
            if j < 5:
                h = h * np.uint64(31) + digits[:, j]
            elif j > 5:
                lo = lo * np.uint64(31) + digits[:, j]
        p = lo ^ (h * self.mix)
        return p, h.astype(np.uint32), ((p * self.spread) >> self.top).astype(np.intp)

    def _contains(self, p, h, bucket):
        import numpy as np

        found = np.zeros(len(p), dtype=bool)
        for b, runs in enumerate(self.runs):
            at = np.flatnonzero(bucket == b)
            q = p[at]
            for rp, rh in runs:
                lo = np.searchsorted(rp, q)
                for k in np.flatnonzero(rp[np.minimum(lo, len(rp) - 1)] == q):  # the same p: a repeat,
                    i = lo[k]  # unless every code with that p has another 25-bit part
                    while i < len(rp) and rp[i] == q[k] and not found[at[k]]:
                        found[at[k]] = rh[i] == h[at[k]]
                        i += 1
        return found

    def _insert(self, p, h, bucket) -> None:
        import numpy as np

        for b, runs in enumerate(self.runs):
            at = bucket == b
            if not at.any():
                continue
            order = np.argsort(p[at], kind="stable")
            runs.append((p[at][order], h[at][order]))
            while len(runs) > 1 and len(runs[-2][0]) <= 2 * len(runs[-1][0]):
                (p1, h1), (p2, h2) = runs.pop(), runs.pop()
                cp, ch = np.concatenate((p2, p1)), np.concatenate((h2, h1))
                order = np.argsort(cp, kind="stable")
                runs.append((cp[order], ch[order]))


def name_first_rows(parsed: Parsed, seen: CodeKeys, reread: Callable[[], Iterable[Rows]], key_of: Callable[[list[str]], str]) -> None:
    """Name the first row of each code repeated from an earlier batch, reading the file again:
    the first row with that code that was not itself rejected (only when there are such repeats)."""
    if not seen.unnamed:
        return
    refused = {problem.row for problem, _ in parsed.rejected}
    first: dict[str, int] = {}
    for rows in reread():
        for number, values in rows:
            if number not in refused:
                key = key_of(values)
                if key in seen.unnamed:
                    first.setdefault(key, number)
    unnamed = {id(p) for p in parsed.unnamed}
    parsed.rejected[:] = [
        (_repeat(p.file, p.row, p.value, first[p.value]), raw) if id(p) in unnamed else (p, raw)
        for p, raw in parsed.rejected
    ]
    parsed.unnamed.clear()


def by_fields(columns: Columns, parse: Callable[[dict[str, str], dict[str, str]], tuple | Invalid]):
    """Adapt a parser of named fields to the row parser ``parse_rows`` takes."""
    return lambda _i, values: parse(*row_fields(values, columns))


def refuse_or_skip(parsed: Parsed, table: Table, skip_invalid: bool) -> None:
    """Without --skip-invalid, any bad row stops the import before anything is written."""
    if parsed.rejected and not skip_invalid:
        n = len(parsed.rejected)
        raise UserError(
            f"{table.file}：{n} 行有误，未写入任何数据（修正后重试，或用 --skip-invalid 跳过这些行）。",
            f"{table.file}: {n} invalid row(s); nothing was written (fix them, or use --skip-invalid to skip them).",
            code=ExitCode.ERROR,
            problems=[p for p, _ in parsed.rejected],
        )


def write_rejects(path: Path, table: Table, rejected: Iterable[tuple[Problem, list[str]]]) -> None:
    """The rejected rows as they were, with their row number and the reason, for fixing in Excel."""
    with replacing(path) as partial, open(partial, "w", encoding="utf-8-sig", newline="") as fh:
        writer = table_writer.CsvWriter(fh)
        writer.writerow(["row", "field", "error", *table.headers])
        for problem, raw in rejected:
            writer.writerow([problem.row, problem.field, problem.en, *raw])
