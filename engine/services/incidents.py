"""Incidents: work that failed and will not be tried again until a person acts (Camunda's incidents).

A job with no retries left opens a ``failedJob`` incident, an external task whose worker reported its
last failure a ``failedExternalTask`` one. Giving retries again resolves it. Both are recorded in the
instance's history; the open ones are rows of the ``incident`` table.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from engine.runtime import HistoryEntry
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import incident

FAILED_JOB = "failedJob"
FAILED_EXTERNAL_TASK = "failedExternalTask"
#: Longest incident message kept (a stack trace belongs to the job, not here).
MESSAGE_LIMIT = 4000


def open_incident(
    uow: UnitOfWork,
    *,
    incident_type: str,
    configuration: str,
    message: str,
    source: Mapping[str, Any],
    activity_instance_id: str | None,
    reference: Mapping[str, Any],
    now: datetime,
) -> HistoryEntry | None:
    """Open the incident of ``configuration`` (a job's or external task's id) unless it has one.

    ``source`` holds the failed work's instance_id, definition_id, definition_key and activity_id. Returns
    the history entry to record when one was opened; an open incident only gets the newer message.
    """
    message = message[:MESSAGE_LIMIT]
    existing = uow.execute(select(incident.c.id).where(incident.c.configuration == configuration)).first()
    if existing is not None:
        uow.execute(
            update(incident)
            .where(incident.c.id == existing.id)
            .values(incident_message=message, incident_timestamp=now)
        )
        return None
    uow.execute(
        incident.insert(),
        {
            "id": str(uuid.uuid4()),
            "incident_type": incident_type,
            "incident_timestamp": now,
            "incident_message": message,
            "instance_id": source["instance_id"],
            "definition_id": source["definition_id"],
            "definition_key": source["definition_key"],
            "activity_id": source["activity_id"],
            "configuration": configuration,
        },
    )
    return HistoryEntry(
        "incident_created",
        activity_id=source["activity_id"],
        activity_instance_id=activity_instance_id,
        data={"type": incident_type, **reference, "message": message},
    )


def resolve_incident(
    uow: UnitOfWork,
    *,
    incident_type: str,
    configuration: str,
    source: Mapping[str, Any],
    activity_instance_id: str | None,
    reference: Mapping[str, Any],
) -> HistoryEntry | None:
    """Close the incident of ``configuration``; the history entry to record if there was one."""
    closed = uow.execute(
        delete(incident).where(incident.c.configuration == configuration).returning(incident.c.id)
    ).first()
    if closed is None:
        return None
    return HistoryEntry(
        "incident_resolved",
        activity_id=source["activity_id"],
        activity_instance_id=activity_instance_id,
        data={"type": incident_type, **reference},
    )


class IncidentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(
        self,
        *,
        instance_id: str | None = None,
        definition_key: str | None = None,
        incident_type: str | None = None,
        first_result: int = 0,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        """Open incidents, oldest first."""
        query = select(incident).order_by(incident.c.incident_timestamp, incident.c.id)
        if instance_id:
            query = query.where(incident.c.instance_id == instance_id)
        if definition_key:
            query = query.where(incident.c.definition_key == definition_key)
        if incident_type:
            query = query.where(incident.c.incident_type == incident_type)
        query = query.offset(first_result)
        if max_results is not None:
            query = query.limit(max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query)]
