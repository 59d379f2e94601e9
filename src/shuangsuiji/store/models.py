"""The store's tables as SQLModel classes: the typed rows of the Python API (api.py).

The schema itself is created by ``migrations.py``, never from these classes (no ``create_all``).
``tests/test_schema.py`` checks that a migrated store, on SQLite and on PostgreSQL, has exactly
these tables and columns with the same NOT NULL and primary keys, so the two cannot drift apart;
indexes, unique constraints and triggers are pinned there by the schema snapshots instead.
The services return these rows for the API's record reads (``services.tasks.task_rows``,
``services.draws.get_draw``, ``services.objects.entity_rows`` …). The commands and the bulk paths
keep plain SQL, measured faster (docs/python-api.md): building these classes and the ORM costs
~0.17 s of start-up, which a listing does not pay for the same output; imports and the draw's
population fetch plain tuples.
"""

from __future__ import annotations

from typing import Iterator, Optional, TypeVar

from sqlalchemy import Connection, UniqueConstraint
from sqlmodel import Field, Session, SQLModel
from sqlmodel.sql.expression import SelectOfScalar

Row = TypeVar("Row", bound=SQLModel)


def rows(conn: Connection, query: SelectOfScalar[Row]) -> list[Row]:
    """The rows a ``select(Model)`` finds, read in the caller's transaction (the session joins it and
    never commits or rolls it back)."""
    with Session(bind=conn) as session:
        return list(session.exec(query))


def stream(conn: Connection, query: SelectOfScalar[Row], batch: int = 1000) -> Iterator[Row]:
    """``rows`` a batch at a time, for a whole directory."""
    with Session(bind=conn) as session:
        yield from session.exec(query.execution_options(yield_per=batch))


class Department(SQLModel, table=True):
    __tablename__ = "department"
    code: str = Field(primary_key=True)
    name: str
    updated_at: str


class Entity(SQLModel, table=True):
    """A market entity of the 检查对象名录库, keyed by its 统一社会信用代码."""

    __tablename__ = "entity"
    id: Optional[int] = Field(default=None, primary_key=True)  # internal only; never used in a draw
    uscc: str = Field(unique=True, index=True)
    name: str
    entity_type: str
    industry: str
    region: str
    address: str
    status: str
    risk_class: Optional[str] = None
    registered_on: Optional[str] = None
    attributes: str  # JSON object of the file's extra columns
    in_directory: int  # 0 once a --sync import no longer lists it (never deleted)
    updated_at: str


class EntityHistory(SQLModel, table=True):
    __tablename__ = "entity_history"
    id: Optional[int] = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc")
    field: str
    old_value: Optional[str] = None
    new_value: Optional[str] = None
    changed_at: str
    operator: str
    audit_seq: int


class Inspector(SQLModel, table=True):
    """An officer of the 执法检查人员名录库, keyed by enforcement-certificate number."""

    __tablename__ = "inspector"
    cert_no: str = Field(primary_key=True)
    name: str
    department: str = Field(foreign_key="department.code")
    cert_expires_on: str
    expertise: str  # JSON list of tags
    region: str
    status: str
    attributes: str
    in_directory: int
    updated_at: str


class InspectorHistory(SQLModel, table=True):
    __tablename__ = "inspector_history"
    id: Optional[int] = Field(default=None, primary_key=True)
    cert_no: str = Field(foreign_key="inspector.cert_no")
    field: str
    old_value: Optional[str] = None
    new_value: Optional[str] = None
    changed_at: str
    operator: str
    audit_seq: int


class Conflict(SQLModel, table=True):
    """A declared conflict of interest (回避): this officer never inspects this entity."""

    __tablename__ = "conflict"
    cert_no: str = Field(primary_key=True, foreign_key="inspector.cert_no")
    uscc: str = Field(primary_key=True)
    reason: str
    declared_at: str


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    seq: int = Field(primary_key=True)
    ts: str
    operator: str
    command: str
    payload: str
    prev_hash: str
    hash: str = Field(unique=True)


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migrations"
    version: int = Field(primary_key=True)
    name: str
    applied_at: str


# ---------------------------------------------------------------- 第六条 to 第八条 (migration 2)


class Checklist(SQLModel, table=True):
    """One imported version of the joint checklist 联合清单; versions are never changed."""

    __tablename__ = "checklist"
    version: str = Field(primary_key=True)
    title: str
    content: str  # canonical JSON of the validated checklist
    source_file: str
    sha256: str
    imported_at: str
    operator: str
    audit_seq: int


class Plan(SQLModel, table=True):
    """One imported version of a year's plan 年度计划; frozen once published (第七条)."""

    __tablename__ = "plan"
    id: Optional[int] = Field(default=None, primary_key=True)
    year: int
    version: int
    checklist_version: str = Field(foreign_key="checklist.version")
    content: str
    source_file: str
    sha256: str
    imported_at: str
    operator: str
    audit_seq: int
    published_at: Optional[str] = None


class Task(SQLModel, table=True):
    """A joint task 联合抽查任务 (第八条), its whole definition frozen when created."""

    __tablename__ = "task"
    id: str = Field(primary_key=True)
    year: int
    name: str
    plan_id: Optional[int] = Field(default=None, foreign_key="plan.id")
    plan_task: Optional[str] = None
    definition: str  # canonical JSON
    sha256: str
    created_at: str
    operator: str
    audit_seq: int


class TaskListEntity(SQLModel, table=True):
    """An entity of a task's own imported list (第九条: 发起部门也可以自行确定检查对象)."""

    __tablename__ = "task_list_entity"
    task_id: str = Field(primary_key=True, foreign_key="task.id")
    uscc: str = Field(primary_key=True)
    name: str
    status: str
    risk_class: Optional[str] = None


# ---------------------------------------------------------------- 第九条 to 第十一条 (migration 3)


class Draw(SQLModel, table=True):
    """One draw of a task: committed (population frozen), then locked (seed known), or void."""

    __tablename__ = "draw"
    id: str = Field(primary_key=True)
    task_id: str = Field(foreign_key="task.id")
    attempt: int
    state: str  # committed | locked | void
    algorithm: str
    parameters: str
    parameters_sha256: str
    population_sha256: str
    commitment: Optional[str] = None
    seed: Optional[str] = None
    seed_provenance: Optional[str] = None
    created_at: str
    locked_at: Optional[str] = None
    void_reason: Optional[str] = None
    voided_at: Optional[str] = None
    operator: str


class DrawStratum(SQLModel, table=True):
    __tablename__ = "draw_stratum"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    stratum: str = Field(primary_key=True)
    size: int
    take: int
    population_sha256: str
    ids: str  # the frozen population: sorted ids, one per line


class DrawSelection(SQLModel, table=True):
    __tablename__ = "draw_selection"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    stratum: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    uscc: str = Field(index=True)
    ticket: str


class DrawContribution(SQLModel, table=True):
    __tablename__ = "draw_contribution"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    department: str = Field(primary_key=True, foreign_key="department.code")
    commit_hash: str
    secret: Optional[str] = None
    committed_at: str
    revealed_at: Optional[str] = None


class DrawInspectorPool(SQLModel, table=True):
    __tablename__ = "draw_inspector_pool"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    department: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    cert_no: str
    ticket: str


class DrawTeam(SQLModel, table=True):
    __tablename__ = "draw_team"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    uscc: str = Field(primary_key=True)
    position: int = Field(primary_key=True)
    cert_no: str
    department: str


class DrawConflict(SQLModel, table=True):
    """The declared conflicts (回避) the inspector draw used, frozen with it."""

    __tablename__ = "draw_conflict"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    cert_no: str = Field(primary_key=True)
    uscc: str = Field(primary_key=True)


class DrawReplacement(SQLModel, table=True):
    __tablename__ = "draw_replacement"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    seq: int = Field(primary_key=True)
    cert_no: str
    reason: str
    entity: Optional[str] = None
    note: str
    replaced_at: str
    operator: str


class DrawTeamRule(SQLModel, table=True):
    """The tie-break rule a draw's teams were drawn with (teams/1 before migration 7)."""

    __tablename__ = "draw_team_rule"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    algorithm: str


class DrawReplacementExclusion(SQLModel, table=True):
    """What a replacement saw: an officer no longer available (uscc '') or a conflict declared since."""

    __tablename__ = "draw_replacement_exclusion"
    draw_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    cert_no: str = Field(primary_key=True)
    uscc: str = Field(primary_key=True)


# ---------------------------------------------------------------- 第十二条 to 第十六条 (migration 4)


class InspectionResult(SQLModel, table=True):
    """One result of a drawn entity for one check item (第十二条 to 第十四条)."""

    __tablename__ = "inspection_result"
    draw_id: str = Field(primary_key=True, foreign_key="draw.id")
    uscc: str = Field(primary_key=True)
    item_id: str = Field(primary_key=True)
    department: str  # the item's department (谁检查、谁录入)
    categories: str  # canonical categories joined with ；
    problem: int  # 1 when a category is a problem (domain.results.PROBLEM_CATEGORIES)
    methods: str  # joined with ；
    inspected_on: str
    signature: Optional[str] = None  # 签字 | 拒签 | 无法取得
    signature_reason: Optional[str] = None
    witness: Optional[str] = None
    followup: Optional[str] = None  # the follow-up measure (domain.results.MEASURES)
    publish: int
    no_publish_reason: Optional[str] = None
    note: Optional[str] = None
    split_reason: Optional[str] = None
    entered_at: str
    entered_by: str
    updated_at: str
    updated_by: str
    audit_seq: int


class InspectionResultHistory(SQLModel, table=True):
    __tablename__ = "inspection_result_history"
    id: Optional[int] = Field(default=None, primary_key=True)
    draw_id: str
    uscc: str
    item_id: str
    field: str
    old_value: Optional[str] = None
    new_value: Optional[str] = None
    changed_at: str
    operator: str
    audit_seq: int


class Followup(SQLModel, table=True):
    """The follow-up of a result with a problem (第十四条(三), 第十六条)."""

    __tablename__ = "followup"
    id: Optional[int] = Field(default=None, primary_key=True)
    draw_id: str
    uscc: str
    item_id: str
    department: str
    handed_to: str  # a department code, or 移送司法机关
    measure: Optional[str] = None
    categories: str
    status: str  # open | in_progress | closed | cancelled
    closed_on: Optional[str] = None
    note: Optional[str] = None
    opened_at: str
    updated_at: str
    operator: str
    audit_seq: int


class FollowupHistory(SQLModel, table=True):
    __tablename__ = "followup_history"
    id: Optional[int] = Field(default=None, primary_key=True)
    followup_id: int = Field(foreign_key="followup.id")
    field: str
    old_value: Optional[str] = None
    new_value: Optional[str] = None
    changed_at: str
    operator: str
    audit_seq: int


class Publication(SQLModel, table=True):
    """One department's export of publishable results (第十五条), with the file's SHA-256."""

    __tablename__ = "publication"
    id: Optional[int] = Field(default=None, primary_key=True)
    draw_id: str = Field(foreign_key="draw.id")
    department: str = Field(foreign_key="department.code")
    file: str
    format: str
    sha256: str
    row_count: int
    summary: str  # JSON: withheld by reason, incomplete entities
    published_at: str
    operator: str
    audit_seq: int


# ---------------------------------------------------------------- 第十八条 field evidence (migration 7)


class ResultEvidence(SQLModel, table=True):
    """A photo, scan, audio or video attached to one entity's result; content in evidence_blob."""

    __tablename__ = "result_evidence"
    __table_args__ = (UniqueConstraint("draw_id", "uscc", "sha256"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    draw_id: str = Field(foreign_key="draw.id")
    uscc: str
    sha256: str
    name: str
    media_type: str
    size: int
    note: str
    attached_at: str
    operator: str
    audit_seq: int


class EvidenceBlob(SQLModel, table=True):
    __tablename__ = "evidence_blob"
    sha256: str = Field(primary_key=True)
    size: int
    content: bytes


class ImportPermit(SQLModel, table=True):
    """Held by an import inside its own transaction; entities, officers and conflicts change only
    while it exists (migration 6). Always empty outside such a transaction."""

    __tablename__ = "import_permit"
    id: int = Field(primary_key=True)
