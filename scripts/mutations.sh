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
  '        recomputed = sample_strata(populations, seed, {s["name"]: s["take"] for s in strata})' \
  '        recomputed = {s["name"]: [type("S", (), x)() for x in s["selected"]] for s in strata}' \
  tests/test_fuzz.py tests/test_tamper.py -k "bundle or selection"
mutate log-update-allowed src/shuangsuiji/store/migrations.py \
  "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END" "BEGIN SELECT 1; END" \
  tests/test_audit.py tests/test_tamper.py
# Fidelity to the regulation (第四条, 第七条; issue 12)
mutate percent-not-half-up src/shuangsuiji/domain/numbers.py \
  'rounding=ROUND_HALF_UP' 'rounding=ROUND_HALF_DOWN' \
  tests/test_plan.py tests/test_reports.py -k "percent or half_up"
mutate share-outside-tasks-ignored src/shuangsuiji/domain/plan.py \
  'lead[c] + max(outside.get(c, 0), 0)' 'lead[c]' \
  tests/test_plan.py -k denominator
mutate initiator-leading-nothing-not-flagged src/shuangsuiji/domain/plan.py \
  '        elif row.no_lead_task:' '        elif False:' \
  tests/test_plan.py -k flagged
mutate typed-publication-date-trusted src/shuangsuiji/services/plans.py \
  '    published_on = date.fromisoformat(published_at[:10])' \
  '    published_on = plan.published_on or date.fromisoformat(published_at[:10])' \
  tests/test_plans_cli.py -k claim
mutate default-class-ignored src/shuangsuiji/services/population.py \
  '"default": default})' '"default": None})' \
  tests/test_risk_classes.py -k default_class
mutate ordered-rounding-not-repaired src/shuangsuiji/domain/draw.py \
  '    while found := inversions(sizes, takes):' '    while found := []:' \
  tests/test_risk_classes.py -k ordered
mutate risk-scheme-not-verified src/shuangsuiji/domain/bundle.py \
  '    if parameters.get("risk_scheme") != definition.get("risk_scheme"):' '    if False:' \
  tests/test_risk_classes.py -k default_class
mutate recent-window-stops-at-the-year src/shuangsuiji/services/population.py \
  'text("SELECT id, definition FROM task WHERE id != :id ORDER BY id"), {"id": task["id"]}' \
  'text("SELECT id, definition FROM task WHERE year = :y AND id != :id ORDER BY id"), {"y": d["year"], "id": task["id"]}' \
  tests/test_tasks.py -k crosses
mutate codes-broken-in-tables src/shuangsuiji/cli/output.py \
  '        grid.add_row(*[line[i] if whole[i] else "\n".join(wrap_cells(line[i], widths[i])) for i in shown])' \
  '        grid.add_row(*[line[i] for i in shown])' \
  tests/test_cli_output.py -k "80_columns"
mutate tables-overflow-the-terminal src/shuangsuiji/cli/output.py \
  '    while len(shown) > 1 and sum(least[i] + 3 for i in shown) + 1 > console.width:' '    while False:' \
  tests/test_cli_output.py -k "narrow or 80_columns"
mutate times-in-utc src/shuangsuiji/i18n.py \
  '    if not isinstance(value, str) or not _UTC_STAMP.fullmatch(value):' '    if True:' \
  tests/test_cli_output.py -k "local_time or 80_columns"
mutate click-errors-in-english src/shuangsuiji/cli/output.py \
  '        message = re.sub(pattern, zh, message)' '        pass' \
  tests/test_cli_output.py -k click_texts
mutate help-wrapped-by-characters src/shuangsuiji/cli/output.py \
  '            if cell_len(line) + cell_len(piece) > width and line.strip():' \
  '            if len(line) + len(piece) > width and line.strip():' \
  tests/test_cli_output.py -k "help_line or wrap_cells"
mutate stale-cli-reference-accepted src/shuangsuiji/cli/reference.py \
  '        if new != current:' '        if False:' \
  tests/test_cli_reference.py
mutate replace-ignores-officers-who-left src/shuangsuiji/services/teams.py \
  'note.strip(), frozenset(unavailable), frozenset(conflicts))' 'note.strip(), frozenset(), frozenset(conflicts))' \
  tests/test_team_changes.py -k replacement
mutate replace-ignores-conflicts-declared-since src/shuangsuiji/services/teams.py \
  'note.strip(), frozenset(unavailable), frozenset(conflicts))' 'note.strip(), frozenset(unavailable), frozenset())' \
  tests/test_team_changes.py -k replacement
mutate teams-tied-to-leaders src/shuangsuiji/domain/teams.py \
  'if self.draw.algorithm == "teams/1" or len(tied) == 1:' 'if True:' \
  tests/test_teams.py -k random
mutate future-inspection-date-accepted src/shuangsuiji/domain/results.py \
  'if inspected_on and scope.today and inspected_on > scope.today:' 'if False:' \
  tests/test_results_rules.py -k future
mutate split-visit-accepted src/shuangsuiji/services/results.py \
  'for i, visit in rules.split_visits(records, stored or {}):' 'for i, visit in []:' \
  tests/test_results_rules.py -k split
mutate refusal-without-witness-counted-complete src/shuangsuiji/domain/results.py \
  'and bool(reason) and bool(witness)' 'and bool(reason)' \
  tests/test_results_rules.py -k signature
mutate holidays-ignored src/shuangsuiji/domain/deadlines.py \
  '        left -= working' '        left -= day.weekday() < 5' \
  tests/test_results_rules.py -k working
mutate invalid-team-not-flagged src/shuangsuiji/services/teams.py \
  '            if m.officer in unavailable:' '            if False:' \
  tests/test_team_changes.py -k flagged
mutate old-bundles-read-as-teams2 src/shuangsuiji/domain/bundle.py \
  'algorithm=inspectors.get("algorithm", "teams/1"),' 'algorithm=inspectors.get("algorithm", "teams/2"),' \
  tests/test_team_changes.py -k old
mutate evidence-blob-mutable src/shuangsuiji/store/migrations.py \
  '("result_evidence", ""), ("evidence_blob", ""))' '("result_evidence", ""))' \
  tests/test_evidence.py -k append
mutate evidence-not-archived src/shuangsuiji/services/archive.py \
  '            files[r["path"]] = evidence.content(conn, r["sha256"])' '            pass' \
  tests/test_evidence.py -k archive
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
mutate swapped-row-keyerror src/shuangsuiji/services/teams.py \
  '        if uscc not in order:  # a row edited' '        if False:  # a row edited' \
  tests/test_verification.py -k swapped
mutate earlier-attempts-unchecked src/shuangsuiji/domain/bundle.py \
  '    if len(earlier) != attempt - 1:' '    if False:' \
  tests/test_verification.py -k redraw
mutate stratum-removal-accepted src/shuangsuiji/domain/bundle.py \
  '    if named != sorted(ratios):' '    if False:' \
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
mutate archive-not-cross-checked src/shuangsuiji/services/archive_verify.py \
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
# Hostile content (issue 16): each guard of docs/reliability.md §6, broken once.
mutate xlsx-formula-kept src/shuangsuiji/table_writer.py \
  '                    cell.data_type = "s"' '                    pass' \
  tests/test_hostile.py -k "every_csv_and_xlsx"
mutate csv-formula-kept src/shuangsuiji/table_writer.py \
  "        return \"'\" + value" '        return value' \
  tests/test_hostile.py -k "every_csv_and_xlsx or neutralises"
mutate markdown-unescaped src/shuangsuiji/table_writer.py \
  '    text = html.escape(xml_text(str(value)), quote=False)' '    text = xml_text(str(value))' \
  tests/test_hostile.py -k markdown
mutate yaml-aliases-unlimited src/shuangsuiji/domain/yaml_doc.py \
  '    if doc.built > doc.max_nodes:' '    if False:' \
  tests/test_hostile.py -k alias
mutate xlsx-bomb-read src/shuangsuiji/table_reader.py \
  '    if total > cap or bomb:' '    if False:' \
  tests/test_hostile.py -k decompression
mutate control-characters-accepted src/shuangsuiji/table_reader.py \
  '        if control and _CONTROL.search("\t".join(' '        if False and _CONTROL.search("\t".join(' \
  tests/test_hostile.py -k control_characters_are_refused
mutate csv-split-at-separators src/shuangsuiji/table_reader.py \
  '        lines = _LINE.findall(carry + piece)' '        lines = (carry + piece).splitlines(keepends=True)' \
  tests/test_hostile.py -k line_separators
mutate archive-member-unbounded src/shuangsuiji/services/archive_verify.py \
mutate control-characters-unsurveyed src/shuangsuiji/table_reader.py \
  '                            control = bool(chunk.translate(None, _PLAIN))' '                            control = False and bool(chunk.translate(None, _PLAIN))' \
  tests/test_hostile.py -k control_characters_are_refused
mutate row-numbers-by-position src/shuangsuiji/table_reader.py \
  '            if reader.line_num - start == len(rows) and all(map(any, rows)):' '            if True:' \
  tests/test_tabular.py -k row_numbers
mutate code-keys-by-64-bits src/shuangsuiji/services/importing.py \
  '                        found[at[k]] = rh[i] == h[at[k]]' '                        found[at[k]] = True' \
  tests/test_objects.py -k code_keys
mutate sync-absent-inverted src/shuangsuiji/services/upsert.py \
  'zip(keys, self.seen.contains(keys)) if not found]' 'zip(keys, self.seen.contains(keys)) if found]' \
  tests/test_objects.py -k sync_removes
mutate archive-member-unbounded src/shuangsuiji/services/archive.py \
  '    if info.file_size <= cap << 20:' '    if True:' \
  tests/test_hostile.py -k archive_verify
mutate audit-filter-wildcards src/shuangsuiji/services/audit.py \
  '        params["command"] = command.replace(' '        params["command"] = command + "%" or command.replace(' \
  tests/test_hostile.py -k audit_log_command
mutate closed-stdout-fails src/shuangsuiji/cli/main.py \
  '        if exc.code == 1 and _stdout_was_closed(stdout_was):' '        if False:' \
  tests/test_hostile.py -k closed_stdout
# Issue 14: survivors of the whole suite before it, each now failing a test.
mutate conflicts-dropped-before-teams src/shuangsuiji/services/teams.py \
  '    team_draw, entities = _team_draw(conn, draw, pools, conflicts)' '    team_draw, entities = _team_draw(conn, draw, pools, frozenset())' \
  tests/test_draws.py -k stored_conflict
mutate trigger-removed-from-migration src/shuangsuiji/store/migrations.py \
  '("draw_inspector_pool", ""), ("draw_team", ""),' '("draw_inspector_pool", ""),' \
  tests/test_db.py -k expected_triggers
mutate results-digest-without-inspected-on src/shuangsuiji/services/results.py \
  'if f != "split_reason"))' 'if f not in ("split_reason", "inspected_on")))' \
  tests/test_hash_vectors.py -k results
mutate certificate-must-outlast-the-window src/shuangsuiji/services/teams.py \
  'AND cert_expires_on >= :end' 'AND cert_expires_on > :end' \
  tests/test_draws.py -k last_day
mutate seed-commitment-unchecked src/shuangsuiji/domain/bundle.py \
  '            if commitment.get(key) != value:' '            if False:' \
  tests/test_verification.py -k forger_edits
mutate contribution-secret-unchecked src/shuangsuiji/domain/bundle.py \
  '        if commit_hash(c["secret"]) != c["commit"]:' '        if False:' \
  tests/test_verification.py -k forger_edits
# Province scale (issue 17): cron progress lines and the small-population draw path
mutate progress-not-quieted src/shuangsuiji/cli/directory.py \
  '    if quiet:' '    if False:' \
  tests/test_objects.py -k progress
mutate small-draw-repeats-unchecked src/shuangsuiji/domain/draw.py \
  '        if len(set(everyone)) != len(everyone):' '        if False:' \
  tests/test_draw_core.py
# Issue 14: `draws run` draws with sample_strata, so the strata vectors test what runs
mutate strata-drawn-short src/shuangsuiji/services/draws.py \
  '        drawn = sample_strata(strata, value, {s["name"]: s["take"] for s in parameters["strata"]})' \
  '        drawn = sample_strata(strata, value, {s["name"]: max(s["take"] - 1, 0) for s in parameters["strata"]})' \
  tests/test_draws.py -k locks_and_shows_tickets
# Issue 14: one path for output files (files.replacing): flushed before the rename, the folder after, no temp left
mutate output-not-flushed src/shuangsuiji/files.py \
  '        _fsync(partial)  # the bytes on disk before the name points at them' '        pass' \
  tests/test_files.py
mutate rename-not-flushed src/shuangsuiji/files.py \
  '        _fsync_folder(path.parent)  # and the rename itself' '        pass' \
  tests/test_files.py
mutate temp-left-behind src/shuangsuiji/files.py \
  '        partial.unlink(missing_ok=True)' '        pass' \
  tests/test_files.py
mutate archive-recorded-before-flush src/shuangsuiji/services/archive.py \
  '                size, zip_sha = durable(partial)' '                size, zip_sha = len(blob), sha256(blob)' \
  tests/test_archive.py -k written_whole
# The schema snapshot (issue 14 point 4): a migration's index dropped, a model's NOT NULL changed
mutate index-dropped-from-migration src/shuangsuiji/store/migrations.py \
  '            "CREATE INDEX ix_entity_history_uscc ON entity_history (uscc)",' '' \
  tests/test_schema.py -k snapshot_schema
mutate model-nullability-drifts src/shuangsuiji/store/models.py \
  '    registered_on: Optional[str] = None' '    registered_on: str' \
  tests/test_schema.py -k models_agree
mutate api-entity-filters-ignored src/shuangsuiji/services/objects.py \
  '            query = query.where(col(column).in_(values))' '            pass' \
  tests/test_api.py -k entities_stream
mutate import-compares-with-not-equal src/shuangsuiji/store/dialect.py \
  '    op = "IS NOT" if is_sqlite(conn) else "IS DISTINCT FROM"' '    op = "!="' \
  tests/test_dialect.py -k re_import
mutate team-tie-by-nine-digits-only src/shuangsuiji/domain/draw.py \
  '    if len(best) == 1:' '    if len(best) >= 1:' \
  tests/test_draw_core.py -k first_by_ticket
mutate bundle-population-closing-indent src/shuangsuiji/domain/bundle.py \
  '"\n" + " " * depth + "]"' '"\n" + " " * (depth + 1) + "]"' \
  tests/test_hash_vectors.py
mutate bundle-marker-collision-unchecked src/shuangsuiji/domain/bundle.py \
  '    if len(pieces) != len(populations) + 1:' '    if False:' \
  tests/test_hash_vectors.py -k marker
mutate chunked-draw-repeats-unchecked src/shuangsuiji/domain/draw.py \
  '    if (every[1:] == every[:-1]).any():' '    if False:' \
  tests/test_draw_core.py -k chunk
mutate chunked-draw-positions-off src/shuangsuiji/domain/draw.py \
  '        offset = end' '        offset = end - 1' \
  tests/test_draw_core.py -k chunk
mutate codes-width-by-length-alone src/shuangsuiji/domain/draw.py \
  'width if fixed and self.text[width :: width + 1] == "\n" * (self._size - 1) else 0' 'width if fixed else 0' \
  tests/test_draw_core.py -k codes
