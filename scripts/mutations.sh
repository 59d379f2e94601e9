#!/usr/bin/env bash
# Show that the reliability tests can fail (docs/reliability.md §5): for each promise, clone
# HEAD, break that one promise with a one-line change, and run the tests that guard it.
# Every line of the summary should say "failed". Usage (from the repository, with the test
# dependencies installed in the Python you name):  PYTHON=.venv/bin/python scripts/mutations.sh
set -uo pipefail
PYTHON=${PYTHON:-python3}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mutate() {  # name, file, old text, new text, pytest arguments...
  local name=$1 file=$2 old=$3 new=$4; shift 4
  git clone -q "$repo" "$work/$name"
  "$PYTHON" - "$work/$name/$file" "$old" "$new" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path, encoding="utf-8").read()
assert old in text, f"{path}: the text to break is gone; update scripts/mutations.sh"
open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))
PY
  local result
  result=$(cd "$work/$name" && PYTHONPATH="$work/$name/src" "$PYTHON" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tail -1)
  echo "$name: $result"
}

mutate redraw-not-refused src/shuangsuiji/services/draws.py \
  '    if current and current["state"] == "locked":' '    if False:' \
  tests/test_concurrency.py -k draws
mutate import-commits-per-batch src/shuangsuiji/services/upsert.py \
  '        self.count += len(records)' \
  '        self.count += len(records); self.conn.exec_driver_sql("COMMIT"); self.conn.exec_driver_sql("BEGIN IMMEDIATE")' \
  tests/test_crash.py -k import
mutate results-not-checked src/shuangsuiji/services/maintenance.py \
  '    report.run("results", lambda: _results(conn, report), not_current)' '' \
  tests/test_tamper.py -k result
mutate tickets-trusted src/shuangsuiji/domain/bundle.py \
  '            recomputed = sample(ids, seed, stratum["take"])' \
  '            recomputed = [type("S", (), x)() for x in stratum["selected"]]' \
  tests/test_fuzz.py tests/test_tamper.py -k "bundle or selection"
mutate log-update-allowed src/shuangsuiji/store/migrations.py \
  "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END" "BEGIN SELECT 1; END" \
  tests/test_audit.py tests/test_tamper.py
mutate output-overwritten src/shuangsuiji/files.py \
  '    if not (force or _force.get()):' '    if False:' \
  tests/test_outputs.py -k "every_output"
mutate imported-file-overwritten src/shuangsuiji/files.py \
  '        if entry is not None:' '        if False:' \
  tests/test_outputs.py -k imported
mutate output-folder-not-made src/shuangsuiji/files.py \
  '        path.parent.mkdir(parents=True, exist_ok=True)' '        pass' \
  tests/test_outputs.py -k folders
mutate dispatch-without-officers-silent src/shuangsuiji/cli/draws.py \
  '    if rows and not any(r["team"] for r in rows):' '    if False:' \
  tests/test_guidance.py -k dispatch_before
mutate early-archive-silent src/shuangsuiji/services/archive.py \
  '    if no_officers:' '    if False:' \
  tests/test_guidance.py -k early_archive
mutate bad-filter-accepted src/shuangsuiji/cli/options.py \
  '        if canonical not in known:' '        if False:' \
  tests/test_guidance.py -k bad_filter
mutate no-draw-without-hint src/shuangsuiji/services/draws.py \
  '        raise _no_draw(conn, draw_id)' '        raise UserError(f"没有抽取记录 {draw_id}", f"No draw {draw_id}")' \
  tests/test_guidance.py -k task_id_or
mutate already-done-is-busy src/shuangsuiji/errors.py \
  '    ALREADY_DONE = 5' '    ALREADY_DONE = 4' \
  tests/test_guidance.py -k already_done
mutate checklist-needs-a-store src/shuangsuiji/cli/checklists.py \
  '    if db is not None and not db.exists():' '    if False:' \
  tests/test_guidance.py -k checklists_validate
