"""The append-only history: every state change is one row that is never updated or deleted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from engine.runtime import HistoryEntry
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import history_event

_INSERT_EVENT = history_event.insert()


class InstanceContext:
    """The columns every event of one instance shares."""

    __slots__ = ("instance_id", "definition_id", "definition_key", "business_key", "deployment_id")

    def __init__(
        self,
        instance_id: str | None,
        definition_id: str | None,
        definition_key: str | None,
        business_key: str | None = None,
        deployment_id: str | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.definition_id = definition_id
        self.definition_key = definition_key
        self.business_key = business_key
        self.deployment_id = deployment_id


def append(
    uow: UnitOfWork,
    context: InstanceContext,
    entries: Iterable[HistoryEntry],
    *,
    timestamp: datetime,
    user_id: str | None,
) -> None:
    rows = [
        {
            "timestamp": timestamp,
            "event_type": e.event_type,
            "instance_id": context.instance_id,
            "definition_id": context.definition_id,
            "definition_key": context.definition_key,
            "business_key": context.business_key,
            "deployment_id": context.deployment_id,
            "activity_id": e.activity_id,
            "activity_name": e.activity_name,
            "activity_type": e.activity_type,
            "activity_instance_id": e.activity_instance_id,
            "user_id": user_id,
            "data": e.data,
        }
        for e in entries
    ]
    if rows:
        uow.execute(_INSERT_EVENT, rows)


_INSTANCE_EVENTS = ("instance_started", "instance_completed", "instance_cancelled")


class HistoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def events(self, instance_id: str) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as uow:
            rows = uow.execute(
                select(history_event).where(history_event.c.instance_id == instance_id).order_by(history_event.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def task_completion(self, task_id: str) -> dict[str, Any] | None:
        """Who completed a user task and when (the ``task_completed`` event), or None."""
        h = history_event
        with self.db.transaction(write=False) as uow:
            row = uow.execute(
                select(h.c.user_id, h.c.timestamp, h.c.instance_id)
                .where(h.c.activity_instance_id == task_id, h.c.event_type == "task_completed")
                .limit(1)
            ).first()
        return dict(row._mapping) if row else None

    def process_instances(
        self,
        *,
        instance_id: str | None = None,
        definition_key: str | None = None,
        definition_id: str | None = None,
        business_key: str | None = None,
        finished: bool | None = None,
        first_result: int = 0,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        """Historic process instances, built from their start and end events."""
        h = history_event
        starts = select(h).where(h.c.event_type == "instance_started")
        if instance_id:
            starts = starts.where(h.c.instance_id == instance_id)
        if definition_key:
            starts = starts.where(h.c.definition_key == definition_key)
        if definition_id:
            starts = starts.where(h.c.definition_id == definition_id)
        if business_key:
            starts = starts.where(h.c.business_key == business_key)
        starts = starts.order_by(h.c.id).offset(first_result)
        if max_results is not None:
            starts = starts.limit(max_results)
        with self.db.transaction(write=False) as uow:
            started = [dict(r._mapping) for r in uow.execute(starts)]
            ids = [s["instance_id"] for s in started]
            ends = {}
            if ids:
                end_rows = uow.execute(
                    select(h).where(
                        and_(h.c.instance_id.in_(ids), h.c.event_type.in_(("instance_completed", "instance_cancelled")))
                    )
                )
                ends = {r.instance_id: dict(r._mapping) for r in end_rows}
        result = []
        for start in started:
            end = ends.get(start["instance_id"])
            if finished is True and end is None or finished is False and end is not None:
                continue
            result.append({"start": start, "end": end})
        return result

    def activity_instances(
        self, *, instance_id: str | None = None, activity_id: str | None = None, activity_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Historic activity instances: an element's start and end events paired by its task id."""
        h = history_event
        query = select(h).where(h.c.activity_instance_id.is_not(None))
        if instance_id:
            query = query.where(h.c.instance_id == instance_id)
        if activity_id:
            query = query.where(h.c.activity_id == activity_id)
        if activity_type:
            query = query.where(h.c.activity_type == activity_type)
        with self.db.transaction(write=False) as uow:
            rows = [dict(r._mapping) for r in uow.execute(query.order_by(h.c.id))]
        return pair_activity_events(rows)


def pair_activity_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Activity instances from history events in their order: each element's start and end events paired
    by its task id, with the user task's assignee; events of no activity are skipped."""
    activities: dict[str, dict[str, Any]] = {}
    for row in events:
        key = row["activity_instance_id"]
        if key is None:
            continue
        current = activities.setdefault(key, {"start": None, "end": None, "assignee": None, "events": []})
        current["events"].append(row)
        if row["event_type"] == "activity_started" and current["start"] is None:
            current["start"] = row
        elif row["event_type"] in ("activity_completed", "activity_cancelled"):
            current["end"] = row
            if current["start"] is None:
                current["start"] = row
        elif row["event_type"] == "task_claimed":
            current["assignee"] = row["user_id"]
        elif row["event_type"] == "task_unclaimed":
            current["assignee"] = None
        elif row["event_type"] == "task_completed" and current["assignee"] is None:
            current["assignee"] = row["user_id"]
    return [a for a in activities.values() if a["start"] is not None]
