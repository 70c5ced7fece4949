"""Deployed process definitions: queries and the in-memory cache of parsed specs."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS as CAMUNDA_NS
from sqlalchemy import and_, func, select

from engine.errors import NotFound
from engine.parsing.xml import parse_xml
from engine.serialization import Serializer
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import form_definition, process_definition, resource

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class SpecCache:
    """Parsed specs by definition id. Definitions are immutable, so entries never go stale."""

    def __init__(self, db: Database, serializer: Serializer, size: int) -> None:
        self.db = db
        self.serializer = serializer
        self.size = size
        self._entries: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, uow: UnitOfWork, definition_id: str) -> tuple:
        with self._lock:
            entry = self._entries.get(definition_id)
            if entry is not None:
                self._entries.move_to_end(definition_id)
                return entry
        text = uow.execute(
            select(process_definition.c.spec).where(process_definition.c.id == definition_id)
        ).scalar_one_or_none()
        if text is None:
            raise NotFound(f"No process definition with id '{definition_id}'")
        entry = self.serializer.spec_from_json(text)
        self.put(definition_id, entry)
        return entry

    def put(self, definition_id: str, entry: tuple) -> None:
        with self._lock:
            self._entries[definition_id] = entry
            self._entries.move_to_end(definition_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_LIST_COLUMNS = [c for c in process_definition.c if c.name != "spec"]


class DefinitionService:
    def __init__(self, db: Database) -> None:
        self.db = db
        #: Definition id to its plain start event's (formKey, formRef), or None: see _plain_start_event.
        self._plain_starts: dict[str, tuple[str | None, str | None] | None] = {}

    def list(
        self,
        *,
        key: str | None = None,
        name: str | None = None,
        deployment_id: str | None = None,
        definition_id: str | None = None,
        latest_only: bool = False,
        version: int | None = None,
        first_result: int = 0,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        pd = process_definition
        query = select(*_LIST_COLUMNS)
        if key:
            query = query.where(pd.c.key == key)
        if name:
            query = query.where(pd.c.name == name)
        if deployment_id:
            query = query.where(pd.c.deployment_id == deployment_id)
        if definition_id:
            query = query.where(pd.c.id == definition_id)
        if version is not None:
            query = query.where(pd.c.version == version)
        if latest_only:
            latest = select(pd.c.key, func.max(pd.c.version).label("version")).group_by(pd.c.key).subquery()
            query = query.join(latest, and_(pd.c.key == latest.c.key, pd.c.version == latest.c.version))
        query = query.order_by(pd.c.key, pd.c.version).offset(first_result)
        if max_results is not None:
            query = query.limit(max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query)]

    def get(self, definition_id: str) -> dict[str, Any]:
        return definition_by_id(self.db, definition_id)

    def latest(self, key: str) -> dict[str, Any]:
        return latest_definition(self.db, key)

    def xml(self, definition: dict[str, Any]) -> bytes:
        with self.db.transaction(write=False) as uow:
            content = uow.execute(
                select(resource.c.content).where(
                    resource.c.deployment_id == definition["deployment_id"],
                    resource.c.name == definition["resource_name"],
                )
            ).scalar_one_or_none()
        if content is None:
            raise NotFound(f"The BPMN resource of process definition '{definition['id']}' is missing")
        return bytes(content)

    def start_form(self, definition: dict[str, Any]) -> tuple[str | None, str | None]:
        """(camunda:formKey, camunda:formRef) of the definition's plain start event, read from its file."""
        return self._plain_start_event(definition) or (None, None)

    def has_plain_start_event(self, definition: dict[str, Any]) -> bool:
        """Whether people can start the process (not only a timer or a message)."""
        return self._plain_start_event(definition) is not None

    def _plain_start_event(self, definition: dict[str, Any]) -> tuple[str | None, str | None] | None:
        """(formKey, formRef) of the plain start event, or None without one; kept per definition, since a
        deployed definition never changes and the start page asks for every process on each view."""
        if definition["id"] in self._plain_starts:
            return self._plain_starts[definition["id"]]
        found = None
        root = parse_xml(self.xml(definition), definition["resource_name"])
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") != definition["key"]:
                continue
            for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
                if any(child.tag.endswith("EventDefinition") for child in start):
                    continue  # a timer or message start event has no form to fill in
                found = (start.get(f"{{{CAMUNDA_NS}}}formKey"), start.get(f"{{{CAMUNDA_NS}}}formRef"))
                break
            break
        self._plain_starts[definition["id"]] = found
        return found

    def form(self, form_key: str) -> dict[str, Any] | None:
        """The latest version of a deployed form (form-js schema) by its id."""
        fd = form_definition
        with self.db.transaction(write=False) as uow:
            row = uow.execute(
                select(fd).where(fd.c.form_key == form_key).order_by(fd.c.version.desc()).limit(1)
            ).first()
        return dict(row._mapping) if row else None


def definition_by_id(db: Database, definition_id: str) -> dict[str, Any]:
    with db.transaction(write=False) as uow:
        row = uow.execute(select(*_LIST_COLUMNS).where(process_definition.c.id == definition_id)).first()
    if row is None:
        raise NotFound(f"No process definition with id '{definition_id}'")
    return dict(row._mapping)


def latest_definition(db: Database, key: str) -> dict[str, Any]:
    pd = process_definition
    with db.transaction(write=False) as uow:
        row = uow.execute(select(*_LIST_COLUMNS).where(pd.c.key == key).order_by(pd.c.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"No process definition with key '{key}'")
    return dict(row._mapping)
