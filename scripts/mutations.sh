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
# Issue 11: the directories are as protected as the draws; the bundle checks what it only asserted.
mutate directory-edit-allowed src/shuangsuiji/store/migrations.py \
  '               WHEN NOT EXISTS (SELECT 1 FROM import_permit)' '               WHEN 0' \
  tests/test_verification.py -k direct_edit
mutate edit-around-draw-unseen src/shuangsuiji/services/maintenance.py \
  '        if drawable and frozen.get(uscc) != risk:' '        if False:' \
  tests/test_verification.py -k hidden_during_a_draw
mutate history-not-reconciled src/shuangsuiji/services/maintenance.py \
  '            if (None if now is None else str(now)) != value:' '            if False:' \
  tests/test_verification.py -k unreverted
mutate officer-edit-unseen src/shuangsuiji/services/maintenance.py \
  '        if updated_at > at or (cert in eligible) == (cert in pooled):' '        if True:' \
  tests/test_verification.py -k officer_hidden
mutate swapped-row-keyerror src/shuangsuiji/services/draws.py \
  '        if uscc not in order:  # a row edited' '        if False:  # a row edited' \
  tests/test_verification.py -k swapped
mutate earlier-attempts-unchecked src/shuangsuiji/domain/bundle.py \
  '    if len(earlier) != attempt - 1:' '    if False:' \
  tests/test_verification.py -k redraw
mutate stratum-removal-accepted src/shuangsuiji/domain/bundle.py \
  '    if named != sorted(definition["ratios"]):' '    if False:' \
  tests/test_verification.py -k removed_stratum
mutate fractional-size-accepted src/shuangsuiji/domain/bundle.py \
  '            if type(stratum[key]) is not int:' '            if False:' \
  tests/test_verification.py -k removed_stratum
mutate inspectors-null-accepted src/shuangsuiji/domain/bundle.py \
  '    if bundle["inspectors"] is None and logged:' '    if False:' \
  tests/test_verification.py -k removed_stratum
mutate log-run-entry-ignored src/shuangsuiji/domain/bundle.py \
  '        if run.get(key) != value:' '        if False:' \
  tests/test_verification.py -k "covers or resealed"
mutate archive-not-cross-checked src/shuangsuiji/services/archive.py \
  '        if report.bundle_ok and entries:' '        if False:' \
  tests/test_verification.py -k resealed
mutate commitment-unchecked src/shuangsuiji/domain/bundle.py \
  '        if published.get(key) != committed.get(key):' '        if False:' \
  tests/test_verification.py -k commitment
mutate past-beacon-round-accepted src/shuangsuiji/domain/seed.py \
  '    if at <= now:' '    if False:' \
  tests/test_verification.py -k beacon
mutate beacon-value-unchecked src/shuangsuiji/domain/seed.py \
  '    return None if _HEX64.match(value) else' '    return None if True else' \
  tests/test_verification.py -k beacon
mutate void-by-one-operator src/shuangsuiji/services/draws.py \
  '        if request.operator == operator:' '        if False:' \
  tests/test_verification.py -k second_operator
mutate failed-reveal-accepted src/shuangsuiji/cli/draws.py \
  '    if not result["ok"]:  # the mismatch is recorded' '    if False:  # the mismatch is recorded' \
  tests/test_verification.py -k secret_hash
mutate secret-newline-hashed src/shuangsuiji/cli/draws.py \
  '    return value[:-2] if value.endswith' '    return value if True else value[:-2] if value.endswith' \
  tests/test_verification.py -k secret_hash
mutate nesting-unbounded src/shuangsuiji/domain/bundle.py \
  '        if depth > MAX_DEPTH:' '        if False:' \
  tests/test_verification.py -k nested
