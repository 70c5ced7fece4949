"""The staff inbox: a user's tasks and their groups' unclaimed tasks, filtered, searched, sorted and
paged, with each task's deadline state and priority band.

Everything comes from the task rows the engine keeps in step with each instance; no workflow is
loaded, so the inbox stays fast with tens of thousands of open tasks (``bench/inbox.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from engine import deadlines
from engine.clock import Clock, stored_utc
from engine.errors import BadRequest
from engine.identity import Principal
from engine.storage.database import Database
from engine.storage.tables import task, task_candidate

VIEWS = ("mine", "group", "all")
SORTS = ("due", "priority", "created")
DEADLINE_STATES = ("overdue", "soon", "on_time", "none")
#: Camunda task priorities (higher is more urgent, 50 by default) in the bands staff know:
#: the process library maps its priorities 1–4 to 90, 70, 50 and 30.
PRIORITY_BANDS = {"critical": (80, None), "high": (60, 80), "medium": (40, 60), "low": (None, 40)}
#: A task is due soon when its deadline falls within this much working time from now.
DUE_SOON = "1 darba diena"
PAGE_SIZES = (10, 25, 50, 100)


def priority_band(priority: int) -> str:
    for band, (low, high) in PRIORITY_BANDS.items():
        if (low is None or priority >= low) and (high is None or priority < high):
            return band
    raise AssertionError(priority)  # the bands cover every integer


def deadline_state(due: datetime | None, now: datetime, soon: datetime) -> str:
    """overdue, soon (due by ``soon``), on_time, or none (no deadline)."""
    if due is None:
        return "none"
    if due < now:
        return "overdue"
    return "soon" if due <= soon else "on_time"


@dataclass
class InboxQuery:
    view: str = "all"
    process: str | None = None
    priority: str | None = None
    deadline: str | None = None
    search: str | None = None
    sort: str = "due"
    page: int = 1
    page_size: int = 25

    def check(self) -> None:
        """Refuse values a hand-edited URL could carry, naming the parameter."""
        for name, value, allowed in (
            ("view", self.view, VIEWS),
            ("sort", self.sort, SORTS),
            ("priority", self.priority, (None, *PRIORITY_BANDS)),
            ("deadline", self.deadline, (None, *DEADLINE_STATES)),
            ("page_size", self.page_size, PAGE_SIZES),
        ):
            if value not in allowed:
                raise BadRequest(f"{name}: {value!r} is not one of {', '.join(str(a) for a in allowed if a)}")
        if self.page < 1:
            raise BadRequest(f"page: {self.page} is not a page number (1 or more)")


@dataclass
class InboxItem:
    id: str
    name: str | None
    instance_id: str
    definition_key: str
    task_definition_key: str
    business_key: str | None
    subject: str | None
    assignee: str | None
    created: datetime
    due: datetime | None
    priority: int
    deadline_state: str
    priority_band: str


@dataclass
class InboxPage:
    items: list[InboxItem]
    total: int
    page: int
    pages: int
    #: Open tasks per view (mine, group, all) and how many of all are overdue or due soon, unfiltered.
    counts: dict[str, int] = field(default_factory=dict)


class InboxService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def page(self, principal: Principal, query: InboxQuery) -> InboxPage:
        query.check()
        now = self.clock.now()
        soon = deadlines.calendar().due_in(now, DUE_SOON)
        views = self._view_conditions(principal)
        filters = self._filters(query, now, soon)
        order = self._order(query.sort)
        with self.db.transaction(write=False) as uow:
            # One pass over the user's tasks counts every tab; without filters it is the total too.
            counts = self._counts(uow, views, now, soon)
            if filters:
                total = uow.execute(
                    select(func.count()).select_from(task).where(views[query.view], *filters)
                ).scalar_one()
            else:
                total = counts[query.view]
            pages = max(1, math.ceil(total / query.page_size))
            page = min(query.page, pages)
            rows = uow.execute(
                select(task)
                .where(views[query.view], *filters)
                .order_by(*order)
                .limit(query.page_size)
                .offset((page - 1) * query.page_size)
            ).all()
        items = [self._item(row._mapping, now, soon) for row in rows]
        return InboxPage(items, total, page, pages, counts)

    def deadline_state(self, due: datetime | None) -> str:
        """The deadline state of one task's due time, now."""
        now = self.clock.now()
        return deadline_state(stored_utc(due) if due else None, now, deadlines.calendar().due_in(now, DUE_SOON))

    @staticmethod
    def _view_conditions(principal: Principal) -> dict[str, Any]:
        mine = task.c.assignee == principal.user_id
        # A correlated EXISTS probes the candidates' primary key per task: on SQLite about twice as fast as
        # IN (subquery) for tens of thousands of visible tasks (bench/inbox.py).
        claimable = task.c.assignee.is_(None) & exists().where(
            task_candidate.c.task_id == task.c.id,
            ((task_candidate.c.kind == "user") & (task_candidate.c.identity == principal.user_id))
            | ((task_candidate.c.kind == "group") & task_candidate.c.identity.in_(sorted(principal.groups))),
        )
        # An administrator's inbox is still their own work: they see others' tasks through the REST API.
        return {"mine": mine, "group": claimable, "all": or_(mine, claimable)}

    @staticmethod
    def _filters(query: InboxQuery, now: datetime, soon: datetime) -> list:
        conditions = []
        if query.process:
            conditions.append(task.c.definition_key == query.process)
        if query.priority:
            low, high = PRIORITY_BANDS[query.priority]
            if low is not None:
                conditions.append(task.c.priority >= low)
            if high is not None:
                conditions.append(task.c.priority < high)
        if query.deadline == "overdue":
            conditions.append(task.c.due < now)
        elif query.deadline == "soon":
            conditions.append(and_(task.c.due >= now, task.c.due <= soon))
        elif query.deadline == "on_time":
            conditions.append(task.c.due > soon)
        elif query.deadline == "none":
            conditions.append(task.c.due.is_(None))
        text = (query.search or "").strip()
        if text:
            pattern = "%" + text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(task.c.search_text.like(pattern, escape="\\"))
        return conditions

    @staticmethod
    def _order(sort: str) -> list:
        # Tasks without a deadline go last; task id keeps pages stable between equal keys.
        by_due = [task.c.due.asc().nulls_last()]
        if sort == "due":
            return [*by_due, task.c.priority.desc(), task.c.created, task.c.id]
        if sort == "priority":
            return [task.c.priority.desc(), *by_due, task.c.created, task.c.id]
        return [task.c.created.desc(), task.c.id]

    @staticmethod
    def _counts(uow, views: dict[str, Any], now: datetime, soon: datetime) -> dict[str, int]:  # noqa: ANN001
        # Every visible task is the user's own (assigned to them) or claimable (unassigned): the tabs
        # split one scan of the visible tasks by the assignee.
        counted = {
            "mine": func.count().filter(task.c.assignee.is_not(None)),
            "group": func.count().filter(task.c.assignee.is_(None)),
            "all": func.count(),
            "overdue": func.count().filter(task.c.due < now),
            "soon": func.count().filter(task.c.due >= now, task.c.due <= soon),
        }
        statement = select(*[c.label(n) for n, c in counted.items()]).select_from(task).where(views["all"])
        return dict(uow.execute(statement).one()._mapping)

    @staticmethod
    def _item(row: Any, now: datetime, soon: datetime) -> InboxItem:
        due = stored_utc(row["due"]) if row["due"] is not None else None
        state = deadline_state(due, now, soon)
        return InboxItem(
            id=row["id"],
            name=row["name"],
            instance_id=row["instance_id"],
            definition_key=row["definition_key"],
            task_definition_key=row["task_definition_key"],
            business_key=row["business_key"],
            subject=row["subject"],
            assignee=row["assignee"],
            created=stored_utc(row["created"]),
            due=due,
            priority=row["priority"],
            deadline_state=state,
            priority_band=priority_band(row["priority"]),
        )
