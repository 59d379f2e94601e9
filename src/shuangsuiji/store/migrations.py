"""Schema migrations: numbered, applied in order, recorded in ``schema_migrations``.

Never ``create_all`` on a live store: each change of the schema is a new migration
appended here, so an old store is upgraded by ``shuangsuiji init`` and a test checks
that the migrated schema matches the models.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from shuangsuiji.domain.audit import utc_now
from shuangsuiji.errors import ExitCode, UserError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    sqlite: tuple[str, ...] = ()
    postgresql: tuple[str, ...] = ()


# 第五条 "全程留痕、责任可溯": the log and locked records refuse UPDATE and DELETE.
_SQLITE_APPEND_ONLY = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)

# PostgreSQL: one plpgsql function raises the message its trigger passes; the triggers keep the
# SQLite names. TRUNCATE skips row triggers there, so it is refused by a statement trigger too.
_POSTGRES_REFUSE = """CREATE FUNCTION shuangsuiji_refuse_change() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END; $$ LANGUAGE plpgsql"""


def _postgres_refuse(table: str, message: str, when: str = "", *, update: bool = True) -> tuple[str, ...]:
    """Triggers refusing UPDATE (optionally only WHEN …), DELETE and TRUNCATE of ``table`` with ``message``."""
    cond = f" WHEN ({when})" if when else ""
    call = f"EXECUTE FUNCTION shuangsuiji_refuse_change('{message}')"
    return ((f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW{cond} {call}",) if update else ()) + (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {call}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT {call}",
    )


_POSTGRES_APPEND_ONLY = (_POSTGRES_REFUSE, *_postgres_refuse("audit_log", "audit_log is append-only"))

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "departments, directories, conflicts, audit log",
        (
            """CREATE TABLE department (
                code VARCHAR(32) PRIMARY KEY,
                name TEXT NOT NULL,
                updated_at VARCHAR(32) NOT NULL
            )""",
            # The key is a unique index, not the primary key, so that a first import of a large
            # directory can build it once after the rows are in (services/upsert.py).
            """CREATE TABLE entity (
                id INTEGER PRIMARY KEY,
                uscc VARCHAR(18) NOT NULL,
                name TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                industry TEXT NOT NULL,
                region TEXT NOT NULL,
                address TEXT NOT NULL,
                status VARCHAR(8) NOT NULL,
                risk_class VARCHAR(1),
                registered_on VARCHAR(10),
                attributes TEXT NOT NULL,
                in_directory INTEGER NOT NULL,
                updated_at VARCHAR(32) NOT NULL
            )""",
            "CREATE UNIQUE INDEX ux_entity_uscc ON entity (uscc)",
            """CREATE TABLE entity_history (
                id INTEGER PRIMARY KEY,
                uscc VARCHAR(18) NOT NULL REFERENCES entity (uscc),
                field VARCHAR(16) NOT NULL,
                old_value TEXT,
                new_value TEXT,
                changed_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
            "CREATE INDEX ix_entity_history_uscc ON entity_history (uscc)",
            """CREATE TABLE inspector (
                cert_no VARCHAR(32) PRIMARY KEY,
                name TEXT NOT NULL,
                department VARCHAR(32) NOT NULL REFERENCES department (code),
                cert_expires_on VARCHAR(10) NOT NULL,
                expertise TEXT NOT NULL,
                region TEXT NOT NULL,
                status VARCHAR(16) NOT NULL,
                attributes TEXT NOT NULL,
                in_directory INTEGER NOT NULL,
                updated_at VARCHAR(32) NOT NULL
            )""",
            """CREATE TABLE inspector_history (
                id INTEGER PRIMARY KEY,
                cert_no VARCHAR(32) NOT NULL REFERENCES inspector (cert_no),
                field VARCHAR(16) NOT NULL,
                old_value TEXT,
                new_value TEXT,
                changed_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
            "CREATE INDEX ix_inspector_history_cert ON inspector_history (cert_no)",
            """CREATE TABLE conflict (
                cert_no VARCHAR(32) NOT NULL REFERENCES inspector (cert_no),
                uscc VARCHAR(18) NOT NULL,
                reason TEXT NOT NULL,
                declared_at VARCHAR(32) NOT NULL,
                PRIMARY KEY (cert_no, uscc)
            )""",
            """CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY,
                ts VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                command TEXT NOT NULL,
                payload TEXT NOT NULL,
                prev_hash VARCHAR(64) NOT NULL,
                hash VARCHAR(64) NOT NULL UNIQUE
            )""",
        ),
        sqlite=_SQLITE_APPEND_ONLY,
        postgresql=_POSTGRES_APPEND_ONLY,
    ),
)


def _sqlite_frozen(table: str, when: str = "") -> tuple[str, ...]:
    """Triggers refusing UPDATE (optionally only WHEN …) and DELETE of a frozen table's rows."""
    cond = f" WHEN {when}" if when else ""
    return (
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}{cond}
            BEGIN SELECT RAISE(ABORT, '{table} rows are frozen'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} rows are frozen'); END""",
    )


def _postgres_frozen(table: str, when: str = "") -> tuple[str, ...]:
    return _postgres_refuse(table, f"{table} rows are frozen", when)


def _frozen(*specs: tuple[str, str]) -> dict[str, tuple[str, ...]]:
    sqlite: tuple[str, ...] = ()
    postgresql: tuple[str, ...] = ()
    for table, when in specs:
        sqlite += _sqlite_frozen(table, when)
        postgresql += _postgres_frozen(table, when)
    return {"sqlite": sqlite, "postgresql": postgresql}


MIGRATIONS += (
    Migration(
        2,
        "joint checklists, annual plans, tasks (第六条 to 第八条)",
        (
            """CREATE TABLE checklist (
                version VARCHAR(64) PRIMARY KEY,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                source_file TEXT NOT NULL,
                sha256 VARCHAR(64) NOT NULL,
                imported_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
            """CREATE TABLE plan (
                id INTEGER PRIMARY KEY,
                year INTEGER NOT NULL,
                version INTEGER NOT NULL,
                checklist_version VARCHAR(64) NOT NULL REFERENCES checklist (version),
                content TEXT NOT NULL,
                source_file TEXT NOT NULL,
                sha256 VARCHAR(64) NOT NULL,
                imported_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL,
                published_at VARCHAR(32),
                UNIQUE (year, version)
            )""",
            """CREATE TABLE task (
                id VARCHAR(64) PRIMARY KEY,
                year INTEGER NOT NULL,
                name TEXT NOT NULL,
                plan_id INTEGER REFERENCES plan (id),
                plan_task VARCHAR(64),
                definition TEXT NOT NULL,
                sha256 VARCHAR(64) NOT NULL,
                created_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
            """CREATE TABLE task_list_entity (
                task_id VARCHAR(64) NOT NULL REFERENCES task (id),
                uscc VARCHAR(18) NOT NULL,
                name TEXT NOT NULL,
                status VARCHAR(8) NOT NULL,
                risk_class VARCHAR(1),
                PRIMARY KEY (task_id, uscc)
            )""",
        ),
        # 第八条/第九条: a task is frozen when created; a published plan (第七条) never changes.
        **_frozen(("checklist", ""), ("task", ""), ("task_list_entity", ""), ("plan", "OLD.published_at IS NOT NULL")),
    ),
    Migration(
        3,
        "draws: frozen populations, locked selections, inspector teams (第九条 to 第十一条)",
        (
            """CREATE TABLE draw (
                id VARCHAR(80) PRIMARY KEY,
                task_id VARCHAR(64) NOT NULL REFERENCES task (id),
                attempt INTEGER NOT NULL,
                state VARCHAR(16) NOT NULL,
                algorithm VARCHAR(64) NOT NULL,
                parameters TEXT NOT NULL,
                parameters_sha256 VARCHAR(64) NOT NULL,
                population_sha256 VARCHAR(64) NOT NULL,
                commitment TEXT,
                seed TEXT,
                seed_provenance TEXT,
                created_at VARCHAR(32) NOT NULL,
                locked_at VARCHAR(32),
                void_reason TEXT,
                voided_at VARCHAR(32),
                operator TEXT NOT NULL,
                UNIQUE (task_id, attempt)
            )""",
            """CREATE TABLE draw_stratum (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                stratum VARCHAR(16) NOT NULL,
                size INTEGER NOT NULL,
                take INTEGER NOT NULL,
                population_sha256 VARCHAR(64) NOT NULL,
                ids TEXT NOT NULL,
                PRIMARY KEY (draw_id, stratum)
            )""",
            """CREATE TABLE draw_selection (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                stratum VARCHAR(16) NOT NULL,
                position INTEGER NOT NULL,
                uscc VARCHAR(18) NOT NULL,
                ticket VARCHAR(96) NOT NULL,
                PRIMARY KEY (draw_id, stratum, position)
            )""",
            "CREATE INDEX ix_draw_selection_uscc ON draw_selection (uscc)",
            """CREATE TABLE draw_contribution (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                department VARCHAR(32) NOT NULL REFERENCES department (code),
                commit_hash VARCHAR(64) NOT NULL,
                secret TEXT,
                committed_at VARCHAR(32) NOT NULL,
                revealed_at VARCHAR(32),
                PRIMARY KEY (draw_id, department)
            )""",
            """CREATE TABLE draw_inspector_pool (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                department VARCHAR(32) NOT NULL,
                position INTEGER NOT NULL,
                cert_no VARCHAR(32) NOT NULL,
                ticket VARCHAR(96) NOT NULL,
                PRIMARY KEY (draw_id, department, position)
            )""",
            """CREATE TABLE draw_team (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                uscc VARCHAR(18) NOT NULL,
                position INTEGER NOT NULL,
                cert_no VARCHAR(32) NOT NULL,
                department VARCHAR(32) NOT NULL,
                PRIMARY KEY (draw_id, uscc, position)
            )""",
            """CREATE TABLE draw_conflict (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                cert_no VARCHAR(32) NOT NULL,
                uscc VARCHAR(18) NOT NULL,
                PRIMARY KEY (draw_id, cert_no, uscc)
            )""",
            """CREATE TABLE draw_replacement (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                seq INTEGER NOT NULL,
                cert_no VARCHAR(32) NOT NULL,
                reason VARCHAR(16) NOT NULL,
                entity VARCHAR(18),
                note TEXT NOT NULL,
                replaced_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                PRIMARY KEY (draw_id, seq)
            )""",
        ),
        # 第九条: "抽取产生的被检查对象名单一经锁定不得更改". A draw row may only move
        # committed → locked or → void, and locked → void (the reason is kept; nothing else changes).
        sqlite=_frozen(
            ("draw_stratum", ""), ("draw_selection", ""), ("draw_inspector_pool", ""), ("draw_team", ""),
            ("draw_replacement", ""), ("draw_conflict", ""), ("draw_contribution", "OLD.revealed_at IS NOT NULL"),
        )["sqlite"] + (
            """CREATE TRIGGER draw_no_delete BEFORE DELETE ON draw
               BEGIN SELECT RAISE(ABORT, 'draw rows are frozen'); END""",
            """CREATE TRIGGER draw_locked_no_update BEFORE UPDATE ON draw
               WHEN OLD.state = 'void'
                 OR (OLD.state = 'locked' AND (NEW.state != 'void'
                     OR NEW.seed IS NOT OLD.seed OR NEW.population_sha256 IS NOT OLD.population_sha256
                     OR NEW.parameters IS NOT OLD.parameters OR NEW.locked_at IS NOT OLD.locked_at
                     OR NEW.task_id IS NOT OLD.task_id OR NEW.attempt IS NOT OLD.attempt))
                 OR (OLD.state = 'committed' AND (NEW.population_sha256 IS NOT OLD.population_sha256
                     OR NEW.parameters IS NOT OLD.parameters OR NEW.commitment IS NOT OLD.commitment))
               BEGIN SELECT RAISE(ABORT, 'a locked draw never changes'); END""",
        ),
        postgresql=_frozen(
            ("draw_stratum", ""), ("draw_selection", ""), ("draw_inspector_pool", ""), ("draw_team", ""),
            ("draw_replacement", ""), ("draw_conflict", ""), ("draw_contribution", "OLD.revealed_at IS NOT NULL"),
        )["postgresql"] + _postgres_refuse("draw", "draw rows are frozen", update=False) + (
            """CREATE TRIGGER draw_locked_no_update BEFORE UPDATE ON draw FOR EACH ROW
               WHEN (OLD.state = 'void'
                 OR (OLD.state = 'locked' AND (NEW.state != 'void'
                     OR NEW.seed IS DISTINCT FROM OLD.seed OR NEW.population_sha256 IS DISTINCT FROM OLD.population_sha256
                     OR NEW.parameters IS DISTINCT FROM OLD.parameters OR NEW.locked_at IS DISTINCT FROM OLD.locked_at
                     OR NEW.task_id IS DISTINCT FROM OLD.task_id OR NEW.attempt IS DISTINCT FROM OLD.attempt))
                 OR (OLD.state = 'committed' AND (NEW.population_sha256 IS DISTINCT FROM OLD.population_sha256
                     OR NEW.parameters IS DISTINCT FROM OLD.parameters OR NEW.commitment IS DISTINCT FROM OLD.commitment)))
               EXECUTE FUNCTION shuangsuiji_refuse_change('a locked draw never changes')""",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        4,
        "inspection results, follow-ups, publication (第十二条 to 第十六条)",
        (
            # 第十二条: one result per (draw, entity, check item); re-import upserts on that key.
            """CREATE TABLE inspection_result (
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                uscc VARCHAR(18) NOT NULL,
                item_id VARCHAR(64) NOT NULL,
                department VARCHAR(32) NOT NULL,
                categories TEXT NOT NULL,
                problem INTEGER NOT NULL,
                methods TEXT NOT NULL,
                inspected_on VARCHAR(10) NOT NULL,
                signature VARCHAR(8),
                signature_reason TEXT,
                witness TEXT,
                followup VARCHAR(16),
                publish INTEGER NOT NULL,
                no_publish_reason TEXT,
                note TEXT,
                entered_at VARCHAR(32) NOT NULL,
                entered_by TEXT NOT NULL,
                updated_at VARCHAR(32) NOT NULL,
                updated_by TEXT NOT NULL,
                audit_seq INTEGER NOT NULL,
                PRIMARY KEY (draw_id, uscc, item_id)
            )""",
            """CREATE TABLE inspection_result_history (
                id INTEGER PRIMARY KEY,
                draw_id VARCHAR(80) NOT NULL,
                uscc VARCHAR(18) NOT NULL,
                item_id VARCHAR(64) NOT NULL,
                field VARCHAR(32) NOT NULL,
                old_value TEXT,
                new_value TEXT,
                changed_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL,
                FOREIGN KEY (draw_id, uscc, item_id) REFERENCES inspection_result (draw_id, uscc, item_id)
            )""",
            "CREATE INDEX ix_inspection_result_history_key ON inspection_result_history (draw_id, uscc, item_id)",
            # 第十四条(三), 第十六条: a problem found is followed up until closed.
            """CREATE TABLE followup (
                id INTEGER PRIMARY KEY,
                draw_id VARCHAR(80) NOT NULL,
                uscc VARCHAR(18) NOT NULL,
                item_id VARCHAR(64) NOT NULL,
                department VARCHAR(32) NOT NULL,
                handed_to VARCHAR(32) NOT NULL,
                measure VARCHAR(16),
                categories TEXT NOT NULL,
                status VARCHAR(16) NOT NULL,
                closed_on VARCHAR(10),
                note TEXT,
                opened_at VARCHAR(32) NOT NULL,
                updated_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL,
                UNIQUE (draw_id, uscc, item_id),
                FOREIGN KEY (draw_id, uscc, item_id) REFERENCES inspection_result (draw_id, uscc, item_id)
            )""",
            """CREATE TABLE followup_history (
                id INTEGER PRIMARY KEY,
                followup_id INTEGER NOT NULL REFERENCES followup (id),
                field VARCHAR(32) NOT NULL,
                old_value TEXT,
                new_value TEXT,
                changed_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
            "CREATE INDEX ix_followup_history_followup ON followup_history (followup_id)",
            # 第十五条 "谁检查、谁录入、谁公开": each department's exports, with the file's SHA-256.
            """CREATE TABLE publication (
                id INTEGER PRIMARY KEY,
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                department VARCHAR(32) NOT NULL REFERENCES department (code),
                file TEXT NOT NULL,
                format VARCHAR(8) NOT NULL,
                sha256 VARCHAR(64) NOT NULL,
                row_count INTEGER NOT NULL,
                summary TEXT NOT NULL,
                published_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL
            )""",
        ),
        # History and publication records are evidence: never changed or removed.
        **_frozen(("inspection_result_history", ""), ("followup_history", ""), ("publication", "")),
    ),
)

MIGRATIONS += (
    Migration(
        5,
        "index of the drawable entities (第九条)",
        (
            # The draw reads each class's drawable codes in code order from this index alone
            # (services.population.DRAWABLE_SQL must repeat its condition word for word).
            "CREATE INDEX ix_entity_drawable ON entity (risk_class, uscc) WHERE in_directory = 1 AND status IN ('存续', '在业')",
        ),
    ),
)

# 第五条, 第九条: the directories decide who can be drawn, so they change only through the tool's
# imports, which record every change in the history and the log. An import holds a permit (a row
# of ``import_permit``, inserted and deleted in its own transaction, so no one else ever sees it);
# without one the store refuses INSERT, UPDATE and DELETE of entities, officers and conflicts.
# SQLite checks the permit per row (an indexed lookup of an empty table); PostgreSQL once per
# statement, so a bulk COPY pays nothing per row. `db check` reconciles the rows with their history,
# the log and every draw's frozen population (services/maintenance.py), for edits made with the
# triggers dropped.
_IMPORT_ONLY = ("entity", "inspector", "conflict")
_POSTGRES_IMPORT_ONLY = """CREATE FUNCTION shuangsuiji_import_only() RETURNS trigger AS $$
       BEGIN IF NOT EXISTS (SELECT 1 FROM import_permit) THEN
         RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END IF; RETURN NULL; END; $$ LANGUAGE plpgsql"""


def _import_only_message(table: str) -> str:
    return f"{table} rows are frozen: they change only through shuangsuiji imports"


MIGRATIONS += (
    Migration(
        6,
        "entities, officers and conflicts change only through imports (第五条, 第九条)",
        ("CREATE TABLE import_permit (id INTEGER NOT NULL PRIMARY KEY)",),
        sqlite=tuple(
            f"""CREATE TRIGGER {table}_no_{change.lower()} BEFORE {change} ON {table}
               WHEN NOT EXISTS (SELECT 1 FROM import_permit)
               BEGIN SELECT RAISE(ABORT, '{_import_only_message(table)}'); END"""
            for table in _IMPORT_ONLY for change in ("INSERT", "UPDATE", "DELETE")
        ),
        postgresql=(_POSTGRES_IMPORT_ONLY,) + tuple(
            f"CREATE TRIGGER {table}_no_{name} BEFORE {events} ON {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION shuangsuiji_import_only('{_import_only_message(table)}')"
            for table in _IMPORT_ONLY for name, events in (("write", "INSERT OR UPDATE"), ("delete", "DELETE OR TRUNCATE"))
        ),
    ),
)

_EVIDENCE_BLOB = """CREATE TABLE evidence_blob (
                sha256 VARCHAR(64) PRIMARY KEY,
                size INTEGER NOT NULL,
                content {binary} NOT NULL
            )"""
_FROZEN_7 = (("draw_team_rule", ""), ("draw_replacement_exclusion", ""), ("result_evidence", ""), ("evidence_blob", ""))
MIGRATIONS += (
    Migration(
        7,
        "team algorithm per draw, what a replacement excluded, split visits, field evidence (第十一条, 第十二条, 第十八条)",
        (
            # 第十一条: the tie-break rule the teams were drawn with; draws from before are teams/1.
            """CREATE TABLE draw_team_rule (
                draw_id VARCHAR(80) PRIMARY KEY REFERENCES draw (id),
                algorithm VARCHAR(16) NOT NULL
            )""",
            "INSERT INTO draw_team_rule (draw_id, algorithm) SELECT DISTINCT draw_id, 'teams/1' FROM draw_team",
            # 第十一条: the directory as a replacement saw it: officers no longer available (uscc '')
            # and conflicts declared after the draw (uscc set), so that the choice replays.
            # 第十二条 一次性完成: why an entity's results carry another date than its visit.
            "ALTER TABLE inspection_result ADD COLUMN split_reason TEXT",
            """CREATE TABLE draw_replacement_exclusion (
                draw_id VARCHAR(80) NOT NULL,
                seq INTEGER NOT NULL,
                cert_no VARCHAR(32) NOT NULL,
                uscc VARCHAR(18) NOT NULL,
                PRIMARY KEY (draw_id, seq, cert_no, uscc),
                FOREIGN KEY (draw_id, seq) REFERENCES draw_replacement (draw_id, seq)
            )""",
            # 第十八条 文字和音像记录: photos, scans, audio and video of a visit, stored by SHA-256.
            """CREATE TABLE result_evidence (
                id INTEGER PRIMARY KEY,
                draw_id VARCHAR(80) NOT NULL REFERENCES draw (id),
                uscc VARCHAR(18) NOT NULL,
                sha256 VARCHAR(64) NOT NULL,
                name TEXT NOT NULL,
                media_type VARCHAR(80) NOT NULL,
                size INTEGER NOT NULL,
                note TEXT NOT NULL,
                attached_at VARCHAR(32) NOT NULL,
                operator TEXT NOT NULL,
                audit_seq INTEGER NOT NULL,
                UNIQUE (draw_id, uscc, sha256)
            )""",
        ),
        # The content itself, once per SHA-256 (several results may cite one scan); all append-only.
        sqlite=(_EVIDENCE_BLOB.format(binary="BLOB"),) + _frozen(*_FROZEN_7)["sqlite"],
        postgresql=(_EVIDENCE_BLOB.format(binary="BYTEA"),) + _frozen(*_FROZEN_7)["postgresql"],
    ),
)

LATEST = MIGRATIONS[-1].version


def for_dialect(statement: str, dialect: str) -> str:
    """A shared statement as ``dialect`` needs it.

    SQLite numbers ``id INTEGER PRIMARY KEY`` rows itself (the rowid); PostgreSQL is told to.
    """
    if dialect == "postgresql":
        return statement.replace("id INTEGER PRIMARY KEY", "id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    return statement


def current_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty store."""
    if not inspect(conn).has_table("schema_migrations"):
        return 0
    return conn.execute(text("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")).scalar_one()


def upgrade(conn: Connection) -> list[int]:
    """Apply every pending migration inside the caller's transaction; return their versions."""
    try:
        return _upgrade(conn)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # PostgreSQL: insufficient_privilege
            raise
        raise UserError(
            "此数据库用户无权更改存储结构：请以存储所有者的身份运行 shuangsuiji init（见 docs/operations.md）",
            "This database user may not change the store's schema: run `shuangsuiji init` as the store's owner "
            "(see docs/operations.md)",
        ) from None


def _upgrade(conn: Connection) -> list[int]:
    if conn.dialect.name == "postgresql":
        _require_utf8_and_c_collation(conn)
    if not inspect(conn).has_table("schema_migrations"):  # (a user without CREATE can still run init on a current store)
        conn.execute(
            text(
                "CREATE TABLE schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at VARCHAR(32) NOT NULL)"
            )
        )
    have = current_version(conn)
    if have > LATEST:
        raise _too_new(have)
    dialect = conn.dialect.name
    applied = []
    for migration in MIGRATIONS:
        if migration.version <= have:
            continue
        extra = migration.sqlite if dialect == "sqlite" else migration.postgresql
        for statement in migration.statements + extra:
            # no_parameters: the statement goes to the driver as written ('%' in plpgsql is no placeholder)
            conn.exec_driver_sql(for_dialect(statement, dialect), execution_options={"no_parameters": True})
        conn.execute(
            text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"),
            {"v": migration.version, "n": migration.name, "t": utc_now()},
        )
        applied.append(migration.version)
    return applied


def require_current(conn: Connection, db: str) -> None:
    """Refuse to work on a store that ``init`` has not created or upgraded."""
    have = current_version(conn)
    if have == LATEST:
        return
    from shuangsuiji.store.engine import shown

    db = shown(db)
    if have == 0:
        raise UserError(
            f"{db} 不是已初始化的存储，请先运行 shuangsuiji init。",
            f"{db} is not an initialised store; run `shuangsuiji init` first.",
            code=ExitCode.ERROR,
        )
    if have < LATEST:
        raise UserError(
            f"存储结构版本 {have} 已过时（当前 {LATEST}），请运行 shuangsuiji init 升级。",
            f"The store's schema version {have} is out of date (current {LATEST}); run `shuangsuiji init` to upgrade.",
        )
    raise _too_new(have)


def _too_new(have: int) -> UserError:
    return UserError(
        f"存储的结构版本 {have} 比本程序支持的 {LATEST} 新，请升级 shuangsuiji。",
        f"The store's schema version {have} is newer than this program's {LATEST}; upgrade shuangsuiji.",
    )


def _require_utf8_and_c_collation(conn: Connection) -> None:
    """A new PostgreSQL store must hold Chinese text (UTF8) and sort text by code point ("C"), as
    SQLite does: listings, exports and the digests computed over sorted rows are then the same on
    both backends (a locale collation would, e.g., ignore hyphens in item ids)."""
    encoding, collate = (v.decode() if isinstance(v, bytes) else v for v in conn.exec_driver_sql(  # bytes in SQL_ASCII
        "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()"
    ).one())
    if encoding == "UTF8" and (collate in ("C", "POSIX") or collate.startswith("C.")):
        return
    create = "CREATE DATABASE … ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    raise UserError(
        f"PostgreSQL 数据库的编码为 {encoding}、排序规则为 {collate}；存储需要 UTF8 和 C 排序规则，"
        f"请这样创建数据库：{create}（见 docs/operations.md）",
        f"The PostgreSQL database has encoding {encoding} and collation {collate}; a store needs UTF8 and the C "
        f"collation. Create the database with: {create} (see docs/operations.md)",
    )
