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
# Hostile content (issue 16): each guard of docs/reliability.md §6, broken once.
mutate xlsx-formula-kept src/shuangsuiji/tables.py \
  '                    cell.data_type = "s"' '                    pass' \
  tests/test_hostile.py -k "every_csv_and_xlsx"
mutate csv-formula-kept src/shuangsuiji/tables.py \
  "        return \"'\" + value" '        return value' \
  tests/test_hostile.py -k "every_csv_and_xlsx or neutralises"
mutate markdown-unescaped src/shuangsuiji/tables.py \
  '    text = html.escape(xml_text(str(value)), quote=False)' '    text = xml_text(str(value))' \
  tests/test_hostile.py -k markdown
mutate yaml-aliases-unlimited src/shuangsuiji/domain/checklist.py \
  '    if doc.built > doc.max_nodes:' '    if False:' \
  tests/test_hostile.py -k alias
mutate xlsx-bomb-read src/shuangsuiji/tabular.py \
  '    if total > cap or bomb:' '    if False:' \
  tests/test_hostile.py -k decompression
mutate control-characters-accepted src/shuangsuiji/tabular.py \
  '        if _CONTROL.search("\t".join(' '        if False and _CONTROL.search("\t".join(' \
  tests/test_hostile.py -k control_characters_are_refused
mutate csv-split-at-separators src/shuangsuiji/tabular.py \
  '        lines = _LINE.findall(carry + pieces.popleft())' '        lines = (carry + pieces.popleft()).splitlines(keepends=True)' \
  tests/test_hostile.py -k line_separators
mutate archive-member-unbounded src/shuangsuiji/services/archive.py \
  '    if info.file_size <= cap << 20:' '    if True:' \
  tests/test_hostile.py -k archive_verify
mutate audit-filter-wildcards src/shuangsuiji/services/audit.py \
  '        params["command"] = command.replace(' '        params["command"] = command + "%" or command.replace(' \
  tests/test_hostile.py -k audit_log_command
mutate closed-stdout-fails src/shuangsuiji/cli/main.py \
  '        if exc.code == 1 and _stdout_was_closed(stdout_was):' '        if False:' \
  tests/test_hostile.py -k closed_stdout
