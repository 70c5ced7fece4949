"""Stored formats: specs and instance state round-trip, and an unknown stored format is refused clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine import runtime
from engine.parsing import parse_deployment
from engine.serialization import STATE_FORMAT, Serializer, StateFormatError
from tests.conftest import SAMPLE_FORMS, SAMPLE_PROCESS


@pytest.fixture(scope="module")
def parsed():
    files = {SAMPLE_PROCESS.name: SAMPLE_PROCESS.read_bytes(), **{f.name: f.read_bytes() for f in SAMPLE_FORMS}}
    [process] = parse_deployment(files).processes
    return process


def test_state_round_trip_without_the_spec(parsed):
    serializer = Serializer()
    spec, subprocess_specs = serializer.spec_from_json(serializer.spec_to_json(parsed.spec, parsed.subprocess_specs))
    workflow = runtime.new_workflow(spec, subprocess_specs)
    when = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
    runtime.start(workflow, {"received": when, "tags": ["a", "b"]})
    text = serializer.state_to_json(workflow)
    assert '"spec"' not in text, "the spec lives with the definition, not in every instance"

    restored = runtime.attach(serializer.state_from_json(text, STATE_FORMAT, spec, subprocess_specs))
    [task] = runtime.open_user_tasks(restored)
    assert task.task_spec.bpmn_id == "Task_registret"
    assert task.data["received"] == when and task.data["tags"] == ["a", "b"]
    step = runtime.complete_user_task(
        restored,
        str(task.id),
        {"ietekme": "zema", "steidzamiba": "zema", "eskalet": False},
    )
    assert [t.task_spec.bpmn_id for t in step.user_tasks] == ["Task_informet"]


def test_unknown_state_format_is_refused_clearly(parsed):
    serializer = Serializer()
    workflow = runtime.new_workflow(parsed.spec, parsed.subprocess_specs)
    runtime.start(workflow, {})
    text = serializer.state_to_json(workflow)
    with pytest.raises(StateFormatError, match="format 99"):
        serializer.state_from_json(text, 99, parsed.spec, parsed.subprocess_specs)
    older = json.dumps({**json.loads(text), "spiff": "1.0"})
    with pytest.raises(StateFormatError, match="SpiffWorkflow 1.0"):
        serializer.state_from_json(older, STATE_FORMAT, parsed.spec, parsed.subprocess_specs)
