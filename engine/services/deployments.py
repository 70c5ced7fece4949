"""Deploying BPMN, DMN and form files as new, immutable definition versions."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from sqlalchemy import func, select

from engine.clock import Clock
from engine.errors import BadRequest, Forbidden, InvalidModel, ModelProblem, NotFound
from engine.identity import Principal
from engine.parsing import MAX_FILE_BYTES, parse_deployment, parse_xml
from engine.runtime import HistoryEntry
from engine.serialization import Serializer
from engine.services import history, start_events
from engine.services.definitions import SpecCache
from engine.services.instance_store import DEFAULT_JOB_RETRIES
from engine.services.job_signal import JobSignal
from engine.storage.database import Database
from engine.storage.tables import deployment, form_definition, process_definition, resource

#: How many files one deployment may hold.
MAX_FILES = 200
_DURATION_DAYS = re.compile(r"^P(\d+)D$")


@dataclass
class DeploymentResult:
    deployment: dict[str, Any]
    #: Definitions this deployment created (new versions only).
    process_definitions: list[dict[str, Any]] = field(default_factory=list)
    #: True when nothing changed and duplicate filtering returned an earlier deployment.
    duplicate: bool = False


def _sha256(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()


def _ttl_days(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    match = _DURATION_DAYS.match(text)
    return int(match.group(1)) if match else None


def _latest_version(uow, table, key_column, key: str):  # noqa: ANN001, ANN202
    """The (version, sha256) of the newest version of a definition or form, or None."""
    return uow.execute(
        select(table.c.version, table.c.sha256).where(key_column == key).order_by(table.c.version.desc()).limit(1)
    ).first()


class DeploymentService:
    def __init__(
        self,
        db: Database,
        serializer: Serializer,
        specs: SpecCache,
        clock: Clock,
        *,
        job_retries: int = DEFAULT_JOB_RETRIES,
        signal: JobSignal | None = None,
    ) -> None:
        self.db = db
        self.serializer = serializer
        self.specs = specs
        self.clock = clock
        self.job_retries = job_retries
        self.signal = signal

    def deploy(
        self,
        files: Mapping[str, bytes],
        *,
        principal: Principal,
        name: str | None = None,
        source: str | None = None,
        deploy_changed_only: bool = False,
        enable_duplicate_filtering: bool = False,
    ) -> DeploymentResult:
        """Validate every file, then store changed definitions as new versions, all or nothing."""
        if not principal.is_admin:
            raise Forbidden(f"User '{principal.user_id}' may not deploy: deploying needs the 'admin' group")
        if not files:
            raise BadRequest("A deployment needs at least one .bpmn, .dmn or .form file")
        if len(files) > MAX_FILES:
            raise BadRequest(f"A deployment may hold at most {MAX_FILES} files, not {len(files)}")
        too_big = [
            ModelProblem(n, f"file is {len(c)} bytes; the limit is {MAX_FILE_BYTES} bytes")
            for n, c in files.items()
            if len(c) > MAX_FILE_BYTES
        ]
        if too_big:
            raise InvalidModel(too_big)

        with self.db.transaction(write=False) as uow:
            known_forms = set(uow.execute(select(form_definition.c.form_key).distinct()).scalars())
            # A process redeployed alone (as Camunda Modeler deploys one file) uses the decisions already
            # deployed: their latest files join the parse, but not the new deployment.
            missing = _decision_refs(files) - _decisions_defined(files)
            deployed_decisions = _stored_decision_files(uow, missing, files) if missing else {}
        parsed = parse_deployment({**files, **deployed_decisions}, known_forms)

        now = self.clock.now()
        deployment_id = str(uuid.uuid4())
        with self.db.transaction() as uow:
            new_definitions: list[dict[str, Any]] = []
            changed_resources: set[str] = set()
            spec_entries = {}
            for process in parsed.processes:
                spec_json = self.serializer.spec_to_json(process.spec, process.subprocess_specs)
                digest = _sha256(files[process.resource_name], spec_json)
                latest = _latest_version(uow, process_definition, process_definition.c.key, process.key)
                if latest is not None and latest.sha256 == digest:
                    continue
                version = (latest.version if latest else 0) + 1
                definition_id = f"{process.key}:{version}:{uuid.uuid4()}"
                new_definitions.append(
                    {
                        "id": definition_id,
                        "key": process.key,
                        "version": version,
                        "name": process.name,
                        "deployment_id": deployment_id,
                        "resource_name": process.resource_name,
                        "sha256": digest,
                        "version_tag": process.version_tag,
                        "history_time_to_live": _ttl_days(process.history_time_to_live),
                        "starter_groups": list(process.starter_groups or []),
                        "starter_users": list(process.starter_users or []),
                        "spec": spec_json,
                        "suspended": False,
                    }
                )
                spec_entries[definition_id] = (process.spec, process.subprocess_specs)
                changed_resources.add(process.resource_name)

            new_forms = []
            for form in parsed.forms:
                digest = _sha256(files[form.resource_name])
                latest = _latest_version(uow, form_definition, form_definition.c.form_key, form.form_id)
                if latest is not None and latest.sha256 == digest:
                    continue
                new_forms.append(
                    {
                        "id": str(uuid.uuid4()),
                        "form_key": form.form_id,
                        "version": (latest.version if latest else 0) + 1,
                        "deployment_id": deployment_id,
                        "resource_name": form.resource_name,
                        "sha256": digest,
                        "schema": form.schema,
                    }
                )
                changed_resources.add(form.resource_name)

            # A DMN file counts as changed when its bytes differ from the last deployed copy.
            for decision_resource in {d.resource_name for d in parsed.decisions} - deployed_decisions.keys():
                digest = _sha256(files[decision_resource])
                seen = uow.execute(
                    select(func.count())
                    .select_from(resource)
                    .where(resource.c.name == decision_resource, resource.c.sha256 == digest)
                ).scalar_one()
                if not seen:
                    changed_resources.add(decision_resource)

            if not changed_resources and enable_duplicate_filtering:
                # Camunda's duplicate filtering: nothing new, so answer with the earlier deployment.
                previous = self._latest_deployment(uow, name)
                if previous is not None:
                    return DeploymentResult(deployment=previous, duplicate=True)

            row = {
                "id": deployment_id,
                "name": name,
                "source": source,
                "deployment_time": now,
                "deployed_by": principal.user_id,
            }
            uow.execute(deployment.insert(), row)
            stored = [n for n in files if not deploy_changed_only or n in changed_resources]
            uow.execute(
                resource.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "deployment_id": deployment_id,
                        "name": n,
                        "sha256": _sha256(files[n]),
                        "content": files[n],
                    }
                    for n in stored
                ],
            )
            if new_definitions:
                uow.execute(process_definition.insert(), new_definitions)
            if new_forms:
                uow.execute(form_definition.insert(), new_forms)
            for definition in new_definitions:
                history.append(
                    uow,
                    history.InstanceContext(None, definition["id"], definition["key"], deployment_id=deployment_id),
                    [
                        HistoryEntry(
                            "deployed",
                            data={"version": definition["version"], "resource": definition["resource_name"]},
                        )
                    ],
                    timestamp=now,
                    user_id=principal.user_id,
                )
            earliest = None
            for definition in new_definitions:
                due = start_events.register_definition(
                    uow, definition, spec_entries[definition["id"]][0], now, job_retries=self.job_retries
                )
                if due is not None:
                    earliest = min(earliest or due, due)
            if earliest is not None and self.signal is not None:
                uow.after_commit.append(lambda: self.signal.notify(earliest))
            for definition_id, entry in spec_entries.items():
                uow.after_commit.append(lambda d=definition_id, e=entry: self.specs.put(d, e))
        for definition in new_definitions:
            definition.pop("spec")
        return DeploymentResult(deployment=row, process_definitions=new_definitions)

    def _latest_deployment(self, uow, name: str | None) -> dict[str, Any] | None:  # noqa: ANN001
        query = select(deployment).order_by(deployment.c.deployment_time.desc()).limit(1)
        if name is not None:
            query = query.where(deployment.c.name == name)
        row = uow.execute(query).first()
        return dict(row._mapping) if row else None

    def list(
        self,
        *,
        name: str | None = None,
        deployment_id: str | None = None,
        first_result: int = 0,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        query = select(deployment).order_by(deployment.c.deployment_time, deployment.c.id).offset(first_result)
        if name:
            query = query.where(deployment.c.name == name)
        if deployment_id:
            query = query.where(deployment.c.id == deployment_id)
        if max_results is not None:
            query = query.limit(max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query)]

    def get(self, deployment_id: str) -> dict[str, Any]:
        rows = self.list(deployment_id=deployment_id)
        if not rows:
            raise NotFound(f"No deployment with id '{deployment_id}'")
        return rows[0]

    def resources(self, deployment_id: str) -> list[dict[str, Any]]:
        self.get(deployment_id)
        with self.db.transaction(write=False) as uow:
            rows = uow.execute(
                select(resource.c.id, resource.c.name, resource.c.deployment_id).where(
                    resource.c.deployment_id == deployment_id
                )
            )
            return [dict(r._mapping) for r in rows]


_BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
_DMN_SUFFIXES = (".dmn", ".dmn11.xml")
_DECISION_REFS = etree.XPath(
    "//*[local-name()='businessRuleTask']/@camunda:decisionRef", namespaces={"camunda": CAMUNDA_MODEL_NS}
)
_DECISION_IDS = etree.XPath("//*[local-name()='decision']/@id")


def _xml_values(files: Mapping[str, bytes], suffixes: tuple[str, ...], xpath: etree.XPath) -> set[str]:
    values: set[str] = set()
    for name, content in files.items():
        if name.endswith(suffixes):
            try:
                values.update(str(v).strip() for v in xpath(parse_xml(content, name)))
            except InvalidModel:
                continue  # parse_deployment reports the file properly
    return values


def _decision_refs(files: Mapping[str, bytes]) -> set[str]:
    return {ref for ref in _xml_values(files, _BPMN_SUFFIXES, _DECISION_REFS) if ref}


def _decisions_defined(files: Mapping[str, bytes]) -> set[str]:
    return _xml_values(files, _DMN_SUFFIXES, _DECISION_IDS)


def _stored_decision_files(uow, wanted: set[str], files: Mapping[str, bytes]) -> dict[str, bytes]:  # noqa: ANN001
    """The latest deployed DMN files that define the ``wanted`` decisions, newest first."""
    found: dict[str, bytes] = {}
    rows = uow.execute(
        select(resource.c.name, resource.c.content)
        .join(deployment, deployment.c.id == resource.c.deployment_id)
        .where(resource.c.name.like("%.dmn") | resource.c.name.like("%.dmn11.xml"))
        .order_by(deployment.c.deployment_time.desc(), deployment.c.id.desc())
    )
    for name, content in rows:
        if not wanted:
            break
        defined = _decisions_defined({name: content}) & wanted
        if defined:
            key = name if name not in files and name not in found else f"deployed/{len(found)}/{name}"
            found[key] = content
            wanted = wanted - defined
    return found
