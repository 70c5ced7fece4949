"""Message correlation (Camunda's ``POST /message``): deliver a message to the instance waiting for it,
or start a process whose start event waits for it. A message nobody waits for is an error, never dropped.

Candidates come from the ``event_subscription`` table (one row per waiting catch event or receive task,
one per message start event of a key's latest version), so only instances that wait for this message
are ever loaded.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, select

from engine import runtime
from engine.clock import Clock
from engine.errors import BadRequest, Forbidden
from engine.identity import EXTERNAL_WORKER_GROUP, SYSTEM, Principal
from engine.runtime import MESSAGE, HistoryEntry
from engine.serialization import Serializer
from engine.services.definitions import definition_by_id
from engine.services.instance_store import InstanceStore
from engine.services.instances import INSTANCE_VISIBLE, may_start, visibility_params
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import event_subscription, process_instance

#: How many instances one message may start or advance in a chain of thrown messages.
MAX_MESSAGE_CHAIN = 20
_ROUTING_DEPTH: ContextVar[int] = ContextVar("plusma_message_routing_depth", default=0)


@dataclass
class Correlation:
    """One delivered message: to a waiting instance ("Execution") or by starting one ("ProcessDefinition")."""

    result_type: str
    instance: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)


class MessageService:
    def __init__(self, db: Database, store: InstanceStore, serializer: Serializer, clock: Clock) -> None:
        self.db = db
        self.store = store
        self.serializer = serializer
        self.clock = clock

    def correlate(
        self,
        principal: Principal,
        message_name: str,
        *,
        business_key: str | None = None,
        correlation_keys: dict[str, Any] | None = None,
        process_instance_id: str | None = None,
        variables: dict[str, Any] | None = None,
        correlate_all: bool = False,
    ) -> list[Correlation]:
        """Deliver ``message_name``; BadRequest when nothing, or (without ``correlate_all``) more than one
        instance, waits for it."""
        if not message_name or not message_name.strip():
            raise BadRequest("messageName is required")
        variables = variables or {}
        correlation_keys = correlation_keys or {}
        now = self.clock.now()
        trusted = principal.is_admin or EXTERNAL_WORKER_GROUP in principal.groups
        with self.db.transaction() as uow:
            waiting = self._waiting(uow, principal, trusted, message_name, business_key, process_instance_id)
            matches = []
            for subscription in waiting:
                loaded = self.store.load(uow, subscription["instance_id"])
                if subscription["id"] not in loaded.waits:
                    continue  # stale row: cannot happen while rows follow the state, but never deliver blindly
                if correlation_keys:
                    current = runtime.process_variables(loaded.workflow)
                    if any(current.get(name) != value for name, value in correlation_keys.items()):
                        continue
                matches.append((subscription, loaded))
            if len(matches) > 1 and not correlate_all:
                raise BadRequest(
                    f"Cannot correlate message '{message_name}' to a single process instance: "
                    f"{len(matches)} instances wait for it; narrow it with businessKey, correlationKeys or "
                    "processInstanceId, or set all=true"
                )
            results = [self._deliver(uow, principal, s, loaded, variables, now) for s, loaded in matches]
            if not results and process_instance_id is None and not correlation_keys:
                start = self._start_subscription(uow, message_name)
                if start is not None:
                    results.append(self._start(uow, principal, start, business_key, variables, now))
        if not results:
            where = []
            if business_key is not None:
                where.append(f"businessKey '{business_key}'")
            if process_instance_id is not None:
                where.append(f"process instance '{process_instance_id}'")
            if correlation_keys:
                where.append(f"correlation keys {sorted(correlation_keys)}")
            scope = f" with {', '.join(where)}" if where else ""
            raise BadRequest(
                f"Cannot correlate message '{message_name}': no process instance{scope} waits for it "
                "and no process starts with it"
            )
        return results

    def _waiting(
        self,
        uow: UnitOfWork,
        principal: Principal,
        trusted: bool,
        name: str,
        business_key: str | None,
        instance_id: str | None,
    ) -> list[dict[str, Any]]:
        conditions = [
            event_subscription.c.event_type == MESSAGE,
            event_subscription.c.event_name == bindparam("name"),
            event_subscription.c.instance_id.is_not(None),
        ]
        params: dict[str, Any] = {"name": name}
        if business_key is not None:
            conditions.append(event_subscription.c.business_key == bindparam("business_key"))
            params["business_key"] = business_key
        if instance_id is not None:
            conditions.append(event_subscription.c.instance_id == bindparam("instance_id"))
            params["instance_id"] = instance_id
        query = select(event_subscription).where(*conditions)
        if not trusted:
            # Others may only message instances they can see.
            query = query.where(
                event_subscription.c.instance_id.in_(select(process_instance.c.id).where(INSTANCE_VISIBLE))
            )
            params.update(visibility_params(principal))
        query = query.order_by(event_subscription.c.created, event_subscription.c.id)
        return [dict(r._mapping) for r in uow.execute(query, params)]

    def _start_subscription(self, uow: UnitOfWork, name: str) -> dict[str, Any] | None:
        row = uow.execute(
            select(event_subscription)
            .where(
                and_(
                    event_subscription.c.event_type == MESSAGE,
                    event_subscription.c.event_name == name,
                    event_subscription.c.instance_id.is_(None),
                )
            )
            .order_by(event_subscription.c.created)
        ).first()
        return dict(row._mapping) if row is not None else None

    def _deliver(
        self,
        uow: UnitOfWork,
        principal: Principal,
        subscription: dict[str, Any],
        loaded: Any,
        variables: dict[str, Any],
        now: Any,
        origin: dict[str, Any] | None = None,
    ) -> Correlation:
        step = runtime.correlate_message(
            loaded.workflow, subscription["task_id"], variables, now, name=subscription["event_name"]
        )
        self.store.save(
            uow,
            loaded,
            step,
            now=now,
            user_id=principal.user_id,
            extra_history=[self._received(subscription, variables, origin)],
        )
        return Correlation("Execution", dict(loaded.row))

    def _start(
        self,
        uow: UnitOfWork,
        principal: Principal,
        subscription: dict[str, Any],
        business_key: str | None,
        variables: dict[str, Any],
        now: Any,
        origin: dict[str, Any] | None = None,
    ) -> Correlation:
        definition = definition_by_id(self.db, subscription["definition_id"])
        if not (principal.is_admin or EXTERNAL_WORKER_GROUP in principal.groups or may_start(principal, definition)):
            raise Forbidden(f"User '{principal.user_id}' may not start process '{definition['key']}'")
        if definition.get("suspended"):
            raise BadRequest(f"Process definition '{definition['id']}' is suspended")
        spec, subprocess_specs = self.store.specs.get(uow, definition["id"])
        workflow = runtime.new_workflow(spec, subprocess_specs)
        first = runtime.start(workflow, {}, now, via=subscription["activity_id"])
        waiting = runtime.waits(workflow)
        start_wait = next(
            (w for w in waiting.values() if w.kind == MESSAGE and w.activity_id == subscription["activity_id"]), None
        )
        if start_wait is None:
            raise BadRequest(f"Process '{definition['key']}' does not wait for message '{subscription['event_name']}'")
        step = runtime.correlate_message(workflow, start_wait.task_id, variables, now, name=start_wait.name)
        step.history[:0] = first.history
        row = self.store.insert(
            uow,
            workflow,
            step,
            definition_id=definition["id"],
            definition_key=definition["key"],
            business_key=business_key,
            start_user_id=principal.user_id,
            now=now,
            user_id=principal.user_id,
            started=HistoryEntry(
                "instance_started",
                activity_id=subscription["activity_id"],
                data={
                    "trigger": "message",
                    "messageName": subscription["event_name"],
                    "variables": self.serializer.data_to_json_compatible(variables),
                    **(origin or {}),
                },
            ),
        )
        return Correlation("ProcessDefinition", row)

    def _received(
        self, subscription: dict[str, Any], variables: dict[str, Any], origin: dict[str, Any] | None = None
    ) -> HistoryEntry:
        return HistoryEntry(
            "message_received",
            activity_id=subscription["activity_id"],
            activity_type="message",
            activity_instance_id=subscription["task_id"],
            data={
                "messageName": subscription["event_name"],
                "variables": self.serializer.data_to_json_compatible(variables),
                **(origin or {}),
            },
        )

    # --- messages thrown by processes --------------------------------------------------------------------

    def route_thrown(
        self,
        uow: UnitOfWork,
        sender: Any,
        thrown: list[runtime.ThrownMessage],
        now: Any,
        user_id: str | None,
    ) -> list[HistoryEntry]:
        """Deliver the messages an instance threw, in its transaction: to the instance with the same business
        key that waits for it, else by starting the process it starts. Nobody there is an error of the step."""
        depth = _ROUTING_DEPTH.get()
        if depth >= MAX_MESSAGE_CHAIN:
            raise runtime.ProcessError(
                f"messages started more than {MAX_MESSAGE_CHAIN} steps in a chain (a loop between processes?)",
                thrown[0].activity_id,
            )
        token = _ROUTING_DEPTH.set(depth + 1)
        try:
            return [self._route_one(uow, sender, message, now, user_id) for message in thrown]
        finally:
            _ROUTING_DEPTH.reset(token)

    def _route_one(
        self, uow: UnitOfWork, sender: Any, message: runtime.ThrownMessage, now: Any, user_id: str | None
    ) -> HistoryEntry:
        row = sender.row
        business_key = message.variables.get("businessKey", row["business_key"])
        origin = {
            "fromInstanceId": row["id"],
            "fromDefinitionKey": row["definition_key"],
            "fromActivityId": message.activity_id,
        }
        actor = Principal(user_id or SYSTEM.user_id, SYSTEM.groups)
        variables = {k: v for k, v in message.variables.items() if k != "businessKey"}
        result = None
        waiting = [
            s
            for s in self._waiting(uow, actor, True, message.name, business_key, None)
            if s["instance_id"] != row["id"]
        ]
        for subscription in waiting:
            loaded = self.store.load(uow, subscription["instance_id"])
            if subscription["id"] in loaded.waits:
                result = self._deliver(uow, actor, subscription, loaded, variables, now, origin)
                break
        if result is None:
            start = self._start_subscription(uow, message.name)
            if start is None:
                raise runtime.ProcessError(
                    f"message '{message.name}' reached nobody: no instance with businessKey '{business_key}' waits "
                    "for it and no process starts with it",
                    message.activity_id,
                )
            result = self._start(uow, actor, start, business_key, variables, now, origin)
        return HistoryEntry(
            "message_sent",
            activity_id=message.activity_id,
            activity_type="message",
            data={
                "messageName": message.name,
                "toInstanceId": result.instance["id"],
                "toDefinitionKey": result.instance["definition_key"],
                "started": result.result_type == "ProcessDefinition",
                "variables": self.serializer.data_to_json_compatible(variables),
            },
        )
