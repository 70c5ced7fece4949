"""The database schema as SQLAlchemy Core tables.

Alembic migrations in ``migrations/`` create this schema; this module is the code's view of it.
Core (not the ORM) keeps the hot path — one instance row, a few task rows — cheap.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY, so the 64-bit id degrades to INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)

deployment = Table(
    "deployment",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=True, index=True),
    Column("source", String(255), nullable=True),
    Column("deployment_time", Timestamp, nullable=False),
    Column("deployed_by", String(255), nullable=True),
)

resource = Table(
    "resource",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deployment_id", String(36), ForeignKey("deployment.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    UniqueConstraint("deployment_id", "name"),
)

process_definition = Table(
    "process_definition",
    metadata,
    # Camunda's id shape: key:version:uuid.
    Column("id", String(255), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(255), nullable=True),
    Column("deployment_id", String(36), ForeignKey("deployment.id"), nullable=False, index=True),
    Column("resource_name", String(255), nullable=False),
    # Hash of the process's own resource file: an unchanged file makes no new version.
    Column("sha256", String(64), nullable=False),
    Column("version_tag", String(255), nullable=True),
    Column("history_time_to_live", Integer, nullable=True),
    Column("starter_groups", JSON, nullable=False),
    Column("starter_users", JSON, nullable=False),
    # The parsed spec (and its call activities' specs), serialized once at deployment: immutable.
    Column("spec", Text, nullable=False),
    Column("suspended", Boolean, nullable=False, default=False),
    UniqueConstraint("key", "version"),
)

form_definition = Table(
    "form_definition",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("form_key", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("deployment_id", String(36), ForeignKey("deployment.id"), nullable=False, index=True),
    Column("resource_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("schema", JSON, nullable=False),
    UniqueConstraint("form_key", "version"),
)

process_instance = Table(
    "process_instance",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("definition_id", String(255), ForeignKey("process_definition.id"), nullable=False, index=True),
    Column("definition_key", String(255), nullable=False, index=True),
    Column("business_key", String(255), nullable=True, index=True),
    # ACTIVE, COMPLETED, EXTERNALLY_TERMINATED (Camunda's historic states).
    Column("state", String(32), nullable=False, index=True),
    # Optimistic lock: every write checks and bumps it.
    Column("version", Integer, nullable=False),
    Column("state_format", Integer, nullable=False),
    Column("workflow_state", Text, nullable=False),
    Column("start_time", Timestamp, nullable=False),
    Column("end_time", Timestamp, nullable=True),
    Column("start_user_id", String(255), nullable=True),
    Column("delete_reason", Text, nullable=True),
)

task = Table(
    "task",
    metadata,
    # The SpiffWorkflow task's UUID: one row per open user task, kept in step with the instance.
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), ForeignKey("process_instance.id"), nullable=False, index=True),
    Column("definition_id", String(255), nullable=False),
    Column("definition_key", String(255), nullable=False, index=True),
    Column("business_key", String(255), nullable=True, index=True),
    Column("task_definition_key", String(255), nullable=False),
    Column("name", String(255), nullable=True, index=True),
    Column("description", Text, nullable=True),
    Column("assignee", String(255), nullable=True, index=True),
    Column("created", Timestamp, nullable=False, index=True),
    Column("due", Timestamp, nullable=True, index=True),
    Column("follow_up", Timestamp, nullable=True),
    Column("priority", Integer, nullable=False, default=50),
    Column("form_key", String(255), nullable=True),
    Column("form_ref", String(255), nullable=True),
    # What the request is about (its ``temats``), for the inbox's list.
    Column("subject", String(255), nullable=True),
    # Business key and subject case-folded, so the inbox's search is a plain LIKE on both databases.
    Column("search_text", String(512), nullable=True),
)

task_candidate = Table(
    "task_candidate",
    metadata,
    Column("task_id", String(36), ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    # "group" or "user"
    Column("kind", String(8), primary_key=True),
    Column("identity", String(255), primary_key=True),
    Index("ix_task_candidate_kind_identity", "kind", "identity"),
)

history_event = Table(
    "history_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("timestamp", Timestamp, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("instance_id", String(36), nullable=True, index=True),
    Column("definition_id", String(255), nullable=True),
    Column("definition_key", String(255), nullable=True),
    Column("business_key", String(255), nullable=True),
    Column("deployment_id", String(36), nullable=True),
    Column("activity_id", String(255), nullable=True),
    Column("activity_name", String(255), nullable=True),
    Column("activity_type", String(64), nullable=True),
    # The SpiffWorkflow task's UUID: ties an activity's start and end events together.
    Column("activity_instance_id", String(36), nullable=True),
    Column("user_id", String(255), nullable=True),
    Column("data", JSON, nullable=True),
    Index("ix_history_event_instance_id_id", "instance_id", "id"),
)

user_account = Table(
    "user_account",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("first_name", String(255), nullable=True),
    Column("last_name", String(255), nullable=True),
    Column("email", String(255), nullable=True),
    Column("password_hash", String(255), nullable=False),
    # The language the user chose for the web UI (lv, en); none means the default, Latvian.
    Column("locale", String(16), nullable=True),
)

sign_in_failure = Table(
    "sign_in_failure",
    metadata,
    # What failed attempts are counted by: "user:<name>" and "address:<client address>".
    Column("key", String(255), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Timestamp, nullable=False),
    # No sign-in for this key is tried before this moment.
    Column("blocked_until", Timestamp, nullable=True),
)

user_group = Table(
    "user_group",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("type", String(64), nullable=True),
)

membership = Table(
    "membership",
    metadata,
    Column("user_id", String(255), ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", String(255), ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True),
)

# --- Waiting: jobs, incidents, external tasks, message subscriptions ------------------------------------

job = Table(
    "job",
    metadata,
    Column("id", String(36), primary_key=True),
    # "timer" (catch or boundary event of an instance), "timer-start" (a definition's timer start event),
    # "connector" (a service task whose connector the engine runs itself).
    Column("kind", String(32), nullable=False),
    Column("instance_id", String(36), ForeignKey("process_instance.id"), nullable=True, index=True),
    Column("definition_id", String(255), ForeignKey("process_definition.id"), nullable=False, index=True),
    Column("definition_key", String(255), nullable=False),
    Column("activity_id", String(255), nullable=False),
    # The SpiffWorkflow task that waits (instance jobs); NULL for timer-start jobs.
    Column("task_id", String(36), nullable=True),
    Column("due", Timestamp, nullable=False),
    Column("retries", Integer, nullable=False),
    # A lease, not a lock: a worker that dies holding it loses the job when it expires.
    Column("lock_owner", String(255), nullable=True),
    Column("lock_expires", Timestamp, nullable=True),
    Column("exception_message", Text, nullable=True),
    Column("exception_stacktrace", Text, nullable=True),
    # Kind-specific: a timer-start's ISO expression and remaining repetitions, a retry cycle...
    Column("configuration", JSON, nullable=True),
    Column("created", Timestamp, nullable=False),
    # Acquisition reads due jobs in due order.
    Index("ix_job_due", "due"),
    # The scheduler's "when does a lease run out" looks only at leased jobs.
    Index(
        "ix_job_lock_expires",
        "lock_expires",
        postgresql_where=text("lock_expires IS NOT NULL"),
        sqlite_where=text("lock_expires IS NOT NULL"),
    ),
)

incident = Table(
    "incident",
    metadata,
    Column("id", String(36), primary_key=True),
    # Camunda's types: "failedJob", "failedExternalTask".
    Column("incident_type", String(64), nullable=False),
    Column("incident_timestamp", Timestamp, nullable=False),
    Column("incident_message", Text, nullable=True),
    Column("instance_id", String(36), nullable=True, index=True),
    Column("definition_id", String(255), nullable=False),
    Column("definition_key", String(255), nullable=False),
    Column("activity_id", String(255), nullable=False),
    # The failed job's or external task's id (Camunda's "configuration").
    Column("configuration", String(36), nullable=False, unique=True),
)

external_task = Table(
    "external_task",
    metadata,
    # The SpiffWorkflow task's UUID of the waiting service task.
    Column("id", String(36), primary_key=True),
    Column("topic", String(255), nullable=False),
    Column("instance_id", String(36), ForeignKey("process_instance.id"), nullable=False, index=True),
    Column("definition_id", String(255), nullable=False),
    Column("definition_key", String(255), nullable=False),
    Column("activity_id", String(255), nullable=False),
    Column("business_key", String(255), nullable=True),
    Column("priority", BigInteger, nullable=False, default=0),
    Column("worker_id", String(255), nullable=True),
    Column("lock_expires", Timestamp, nullable=True),
    # NULL until a worker reports a failure (Camunda's semantics).
    Column("retries", Integer, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("error_details", Text, nullable=True),
    Column("created", Timestamp, nullable=False),
    Index("ix_external_task_topic_lock_expires", "topic", "lock_expires"),
)

event_subscription = Table(
    "event_subscription",
    metadata,
    Column("id", String(36), primary_key=True),
    # "message"
    Column("event_type", String(32), nullable=False),
    Column("event_name", String(255), nullable=False),
    # NULL for a message start event of a definition (the latest version of its key).
    Column("instance_id", String(36), ForeignKey("process_instance.id"), nullable=True, index=True),
    Column("definition_id", String(255), ForeignKey("process_definition.id"), nullable=False),
    Column("definition_key", String(255), nullable=False),
    Column("activity_id", String(255), nullable=False),
    Column("task_id", String(36), nullable=True),
    Column("business_key", String(255), nullable=True),
    Column("created", Timestamp, nullable=False),
    Index("ix_event_subscription_event_type_event_name", "event_type", "event_name"),
)
