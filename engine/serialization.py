"""Plūsma's stored formats for process specs and instance state.

A definition's spec is serialized once, at deployment; an instance stores only its own state
(task tree, data, events) and is rebuilt on the cached spec. That keeps every step's write small
and lets a spec be parsed once per process, not once per request.

Stored instance state is wrapped in Plūsma's own format version (``STATE_FORMAT``) besides
SpiffWorkflow's ``serializer_version``, so an upgrade can migrate what is already stored.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.errors import PlusmaError
from engine.parsing.camunda import SERIALIZER_CONFIG

#: Plūsma's own version of the stored instance state; bump it with a migration in ``_upgrade_state``.
STATE_FORMAT = 1
#: Version of the stored spec format.
SPEC_FORMAT = 1


class InstanceStateConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its specs: they live with the definition."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore_with_specs(self, dct: dict, spec: BpmnProcessSpec, subprocess_specs: dict) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateFormatError(PlusmaError):
    """Stored state is in a format this release cannot read."""


class Serializer:
    """Serializes specs (once per definition) and instance state (every step)."""

    def __init__(self) -> None:
        self.registry = BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG)
        # Registering replaces the default converter for BpmnWorkflow.
        self._workflow_converter = InstanceStateConverter(BpmnWorkflow, self.registry)
        self._encoder = create_encoder(self.registry)

    def _dumps(self, dct: dict) -> str:
        # The registry converts data values (datetimes, decimals) only in encoder mode.
        self.registry._encoder_mode = True
        try:
            return json.dumps(dct, cls=self._encoder, ensure_ascii=False, separators=(",", ":"))
        finally:
            self.registry._encoder_mode = False

    # Specs -------------------------------------------------------------------------------------
    def spec_to_json(self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
        return self._dumps(
            {
                "format": SPEC_FORMAT,
                "spiff": SPIFF_SERIALIZER_VERSION,
                "spec": self.registry.convert(spec),
                "subprocess_specs": {name: self.registry.convert(s) for name, s in subprocess_specs.items()},
            }
        )

    def spec_from_json(self, text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        dct = json.loads(text)
        if dct.get("format") != SPEC_FORMAT or dct.get("spiff") != SPIFF_SERIALIZER_VERSION:
            raise StateFormatError(
                f"Stored spec format {dct.get('format')}/{dct.get('spiff')} is not readable by this release"
            )
        spec = self.registry.restore(dct["spec"])
        subprocess_specs = {name: self.registry.restore(s) for name, s in dct["subprocess_specs"].items()}
        return spec, subprocess_specs

    # Instance state ----------------------------------------------------------------------------
    def state_to_json(self, workflow: BpmnWorkflow) -> str:
        self.registry._encoder_mode = True
        try:
            state = self._workflow_converter.to_dict(workflow)
        finally:
            self.registry._encoder_mode = False
        return self._dumps({"spiff": SPIFF_SERIALIZER_VERSION, "state": state})

    def state_from_json(
        self, text: str, state_format: int, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> BpmnWorkflow:
        dct = json.loads(text)
        dct = _upgrade_state(dct, state_format)
        return self._workflow_converter.restore_with_specs(dct["state"], spec, subprocess_specs)

    def data_to_json_compatible(self, data: Any) -> Any:
        """Data as plain JSON values (datetimes and the like in the registry's typed form)."""
        return json.loads(self._dumps({"d": data}))["d"]


def _upgrade_state(dct: dict, state_format: int) -> dict:
    """Migrate stored state to the current format; new releases add steps here."""
    if state_format != STATE_FORMAT or dct.get("spiff") != SPIFF_SERIALIZER_VERSION:
        raise StateFormatError(
            f"Stored instance state format {state_format} (SpiffWorkflow {dct.get('spiff')}) "
            f"is not readable by this release (format {STATE_FORMAT}, SpiffWorkflow {SPIFF_SERIALIZER_VERSION})"
        )
    return dct
