"""The store's tables as SQLModel classes: typed rows for services and output.

The schema itself is created by ``migrations.py``; ``tests/test_store.py`` checks that a
migrated store has exactly these tables and columns, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Optional

from sqlmodel import Field, SQLModel


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
