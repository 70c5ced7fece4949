"""Running one process instance: start it, advance it, and say what changed.

Pure SpiffWorkflow work, no database: the service layer loads state, calls these functions and
stores what they return (the new state, the open user tasks, the history events) in one
transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import deadlines
from engine.clock import spiff_time
from engine.errors import BadRequest, Conflict, PlusmaError, ScriptError
from engine.parsing.camunda import PlusmaServiceTask, PlusmaUserTask, camunda_expression_body
from engine.scripting import create_script_engine, evaluate
from engine.variables import parse_date

_script_engine = create_script_engine(environment_globals=deadlines.FUNCTIONS)

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


class ProcessError(PlusmaError):
    """The process could not advance: a script, condition or model error at run time."""

    camunda_type = "ProcessEngineException"

    def __init__(self, message: str, element_id: str | None = None) -> None:
        self.element_id = element_id
        super().__init__(message)


@dataclass
class HistoryEntry:
    """One event for the history table; the service adds instance and time columns."""

    event_type: str
    activity_id: str | None = None
    activity_name: str | None = None
    activity_type: str | None = None
    activity_instance_id: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ThrownMessage:
    """A message the instance threw that nothing inside it caught: the engine delivers it elsewhere."""

    name: str
    variables: dict[str, Any]
    #: The throwing element (intermediate throw event, end event), when known.
    activity_id: str | None = None


@dataclass
class Step:
    """What one advance of an instance changed."""

    history: list[HistoryEntry] = field(default_factory=list)
    #: Open user tasks after the step (all of them, not only new ones).
    user_tasks: list[Task] = field(default_factory=list)
    completed: bool = False
    #: Messages thrown for other instances or processes.
    thrown: list[ThrownMessage] = field(default_factory=list)


def activity_type(task: Task) -> str:
    """Camunda's activity type name (``userTask``, ``exclusiveGateway``...) for a task."""
    name = type(task.task_spec).__name__
    if isinstance(task.task_spec, PlusmaUserTask):
        return "userTask"
    if isinstance(task.task_spec, PlusmaServiceTask):
        return task.task_spec.element_type
    name = name.removeprefix("Bpmn").removeprefix("Camunda")
    return name[0].lower() + name[1:]


def _is_bpmn_element(task: Task) -> bool:
    # SpiffWorkflow adds internal tasks (Root, Start, End) that have no BPMN element.
    return getattr(task.task_spec, "bpmn_id", None) is not None


def _all_tasks(workflow: BpmnWorkflow) -> Iterable[Task]:
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _snapshot(workflow: BpmnWorkflow) -> dict[UUID, int]:
    return {task.id: task.state for task in _all_tasks(workflow)}


def _entry(event_type: str, task: Task, data: dict[str, Any] | None = None) -> HistoryEntry:
    spec = task.task_spec
    return HistoryEntry(
        event_type=event_type,
        activity_id=spec.bpmn_id,
        activity_name=spec.bpmn_name,
        activity_type=activity_type(task),
        activity_instance_id=str(task.id),
        data=data,
    )


def _source_element(task: Task) -> str | None:
    """The BPMN element the token came from (its nearest ancestor that is one): with ``task``'s own element
    it names the sequence flow taken, for auditors and for the tests' flow coverage."""
    if isinstance(task.task_spec, BoundaryEvent):
        return None  # attached to its task: no sequence flow leads to it
    parent = task.parent
    while parent is not None and not _is_bpmn_element(parent):
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _diff(before: dict[UUID, int], workflow: BpmnWorkflow) -> list[HistoryEntry]:
    """History entries for every BPMN element whose state changed since ``before``, in the order
    the changes happened (subprocess tasks interleave with their parents')."""
    changes: list[tuple[float, int, HistoryEntry]] = []
    for order, task in enumerate(_all_tasks(workflow)):
        if not _is_bpmn_element(task):
            continue
        old = before.get(task.id)
        new = task.state
        if old == new:
            continue
        was_open = old is not None and old & _OPEN
        entry = None
        if new & _OPEN and not was_open:
            source = _source_element(task)
            entry = _entry("activity_started", task, {"from": source} if source else None)
        elif new == TaskState.COMPLETED:
            data: dict[str, Any] = {}
            if not was_open:
                # Started and completed within this step (a gateway, script, event): it has no
                # activity_started entry, so this one names where the token came from.
                source = _source_element(task)
                if source:
                    data["from"] = source
            if len(task.children) > 1 or "Gateway" in type(task.task_spec).__name__:
                # The path a gateway took: the elements its outgoing tokens reached.
                data["taken"] = [
                    {"activityId": c.task_spec.bpmn_id, "activityName": c.task_spec.bpmn_name}
                    for c in task.children
                    if _is_bpmn_element(c)
                ]
            entry = _entry("activity_completed", task, data or None)
        elif new == TaskState.CANCELLED and was_open:
            entry = _entry("activity_cancelled", task)
        if entry is not None:
            changes.append((task.last_state_change, order, entry))
    changes.sort(key=lambda change: change[:2])
    return [entry for _, _, entry in changes]


def open_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return [
        t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if isinstance(t.task_spec, PlusmaUserTask)
    ]


def _run(workflow: BpmnWorkflow, action, now: datetime | None = None) -> Step:  # noqa: ANN001
    before = _snapshot(workflow)
    try:
        with spiff_time(now or datetime.now(UTC)):
            action()
            workflow.do_engine_steps()
    except ScriptError:
        raise
    except SpiffWorkflowException as error:
        raise _process_error(error) from error
    step = Step(history=_diff(before, workflow), user_tasks=open_user_tasks(workflow))
    step.completed = workflow.is_completed()
    step.thrown = _thrown_messages(before, workflow)
    return step


def _thrown_messages(before: dict[UUID, int], workflow: BpmnWorkflow) -> list[ThrownMessage]:
    events = [e for e in workflow.get_events() if isinstance(e.event_definition, MessageEventDefinition)]
    if not events:
        return []
    throwers: dict[str, list[str]] = {}
    for task in _all_tasks(workflow):
        definition = getattr(task.task_spec, "event_definition", None)
        if (
            isinstance(definition, MessageEventDefinition)
            and task.state == TaskState.COMPLETED
            and before.get(task.id) != TaskState.COMPLETED
            and isinstance(task.task_spec, ThrowingEvent)
        ):
            throwers.setdefault(definition.name, []).append(task.task_spec.bpmn_id)
    thrown = []
    for event in events:
        name = event.event_definition.name
        payload = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
        value = payload.get("payload")
        if isinstance(value, dict):
            variables = dict(value)
        elif value is None:
            variables = {}
        else:
            variables = {payload.get("result_var") or "payload": value}
        candidates = throwers.get(name) or [None]
        thrown.append(ThrownMessage(name, variables, candidates.pop(0) if len(candidates) > 1 else candidates[0]))
    return thrown


def _process_error(error: SpiffWorkflowException) -> PlusmaError:
    cause = error.__cause__ or getattr(error, "exception", None)
    # The sandbox's ScriptError already names the element; keep it as the error users see.
    while cause is not None and not isinstance(cause, ScriptError):
        cause = cause.__cause__
    if isinstance(cause, ScriptError):
        return cause
    element = None
    if isinstance(error, WorkflowException) and error.task_spec is not None:
        element = getattr(error.task_spec, "bpmn_id", None) or error.task_spec.name
    detail = str(error).strip()
    where = f"element '{element}': " if element else ""
    return ProcessError(f"{where}{detail}", element)


def new_workflow(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=_script_engine)
    return workflow


def attach(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """Give a deserialized workflow its (unserialized) script engine."""
    workflow.script_engine = _script_engine
    return workflow


def _leave_out_other_start_events(workflow: BpmnWorkflow, via: str | None) -> None:
    if via is None:
        return
    for task in workflow.get_tasks(state=TaskState.PREDICTED_MASK):
        if isinstance(task.task_spec, StartEvent) and task.task_spec.bpmn_id != via and task.workflow is workflow:
            task.cancel()


def has_plain_start_event(spec: BpmnProcessSpec) -> bool:
    """Whether the process can start without an event (``POST .../start``): a start event with no trigger."""
    return any(
        isinstance(t, StartEvent) and isinstance(getattr(t, "event_definition", None), NoneEventDefinition)
        for t in spec.task_specs.values()
    )


def start(
    workflow: BpmnWorkflow, variables: dict[str, Any], now: datetime | None = None, *, via: str | None = None
) -> Step:
    """Run a new instance with its start variables to its first wait state.

    ``via`` names the start event that starts it (a message start event); the process's other start events
    are left out, or a plain start event would run at once and end the wait for the message.
    """
    start_task = workflow.get_next_task(state=TaskState.READY)
    _leave_out_other_start_events(workflow, via)

    def seed() -> None:
        start_task.data.update(variables)

    return _run(workflow, seed, now)


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises its own lookup errors
        raise BadRequest(f"Task {task_id} is not part of this instance's state") from error


def complete_user_task(
    workflow: BpmnWorkflow, task_id: str, variables: dict[str, Any], now: datetime | None = None
) -> Step:
    """Complete an open user task with the given variables and run on to the next wait state."""
    task = find_task(workflow, task_id)
    if task.state in (TaskState.COMPLETED, TaskState.CANCELLED):
        # Read after a concurrent completion committed: the same outcome as a stale version.
        raise Conflict(f"Task {task_id} was {TaskState.get_name(task.state).lower()} meanwhile")
    if task.state != TaskState.READY:
        raise BadRequest(f"Task {task_id} is {TaskState.get_name(task.state)}, not open")

    def run_task() -> None:
        task.data.update(variables)
        task.run()

    return _run(workflow, run_task, now)


def cancel(workflow: BpmnWorkflow, now: datetime | None = None) -> Step:
    return _run(workflow, workflow.cancel, now)


# --- Waiting ----------------------------------------------------------------------------------------------

TIMER = "timer"
MESSAGE = "message"
EXTERNAL = "external"
CONNECTOR = "connector"


@dataclass(frozen=True)
class Wait:
    """Something an instance waits for, as the job, external task and subscription tables keep it."""

    kind: str
    task_id: str
    activity_id: str
    #: When a timer falls due (None for other kinds, and for a cycle that has run out).
    due: datetime | None = None
    #: A message's name, an external task's topic, a connector's id.
    name: str | None = None
    #: An external task's priority (camunda:taskPriority).
    priority: int = 0
    #: The wait's own id (its row's id): the task's id, or for one of several events an event-based
    #: gateway waits for, an id derived from the task and the event.
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.task_id)


def _event_tasks(workflow: BpmnWorkflow) -> Iterable[Task]:
    # The top workflow's event manager also holds the catching tasks of its subprocesses.
    return list(workflow.event_manager.tasks.values())


def _timer_due(value: Any) -> datetime | None:
    if isinstance(value, dict):  # a cycle: {"cycles": n, "next": iso, ...}; 0 cycles left is not due
        value = value.get("next") if value.get("cycles") else None
    if not isinstance(value, str):
        return None
    try:
        due = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Stored in UTC: SQLite compares the stored texts.
    return due.astimezone(UTC) if due.tzinfo is not None else due.replace(tzinfo=UTC)


def waits(workflow: BpmnWorkflow) -> dict[str, Wait]:
    """Everything the workflow waits for besides user tasks, by SpiffWorkflow task id."""
    found: dict[str, Wait] = {}
    for task in _event_tasks(workflow):
        if not task.has_state(TaskState.WAITING | TaskState.READY) or not _is_bpmn_element(task):
            continue
        definition = task.task_spec.event_definition
        task_id = str(task.id)
        if isinstance(definition, MultipleEventDefinition):
            # An event-based gateway waits for the first of several events: one wait for each.
            for wait in _multiple_waits(task, definition):
                found[wait.key] = wait
        elif isinstance(definition, TimerEventDefinition):
            due = _timer_due(definition.details(task).value)
            if due is not None:
                found[task_id] = Wait(TIMER, task_id, task.task_spec.bpmn_id, due=due)
        elif isinstance(definition, MessageEventDefinition):
            found[task_id] = Wait(MESSAGE, task_id, task.task_spec.bpmn_id, name=definition.name)
    for task in _all_tasks(workflow):
        spec = task.task_spec
        if isinstance(spec, PlusmaServiceTask) and task.state == TaskState.STARTED:
            implementation = spec.implementation
            # camunda:topic and camunda:taskPriority may be ${...} expressions over the task's data.
            name = (
                str(_parameter_value({"text": spec.topic}, task)) if implementation == EXTERNAL else spec.connector_id
            )
            try:
                priority = int(_parameter_value({"text": spec.task_priority}, task)) if spec.task_priority else 0
            except (TypeError, ValueError, ScriptError):
                # A priority only orders the work: one that cannot be worked out must not stop the process.
                priority = 0
            found[str(task.id)] = Wait(implementation, str(task.id), spec.bpmn_id, name=name, priority=priority)
    return found


def _multiple_waits(task: Task, definition: MultipleEventDefinition) -> list[Wait]:
    waits_: list[Wait] = []
    for event in definition.event_definitions:
        if isinstance(event, TimerEventDefinition):
            # SpiffWorkflow keeps the gateway's timer value on the gateway's task.
            due = _timer_due(task._get_internal_data("event_value"))
            if due is not None:
                waits_.append(Wait(TIMER, str(task.id), task.task_spec.bpmn_id, due=due))
        elif isinstance(event, MessageEventDefinition):
            key = str(uuid5(task.id, f"message:{event.name}"))
            waits_.append(Wait(MESSAGE, str(task.id), task.task_spec.bpmn_id, name=event.name, key=key))
    return waits_


def fire_timers(workflow: BpmnWorkflow, now: datetime) -> Step:
    """Fire every timer of the workflow that is due at ``now`` and run on to the next wait state."""
    due = {k: w for k, w in waits(workflow).items() if w.kind == TIMER and w.due is not None and w.due < now}
    step = _run(workflow, workflow.refresh_timers, now)
    after = waits(workflow)
    # A cycle's repetition leaves no state change of its own in the tree: record each firing.
    fired = [
        HistoryEntry(
            "timer_fired",
            activity_id=wait.activity_id,
            activity_name=workflow.get_task_from_id(UUID(task_id)).task_spec.bpmn_name,
            activity_type="timer",
            activity_instance_id=task_id,
            data={"due": wait.due.isoformat()},
        )
        for task_id, wait in due.items()
        if after.get(task_id) != wait
    ]
    step.history[:0] = fired
    return step


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def start_by_timer(workflow: BpmnWorkflow, due: datetime, now: datetime, *, via: str | None = None) -> Step:
    """Start a new instance whose timer start event (``via``, else any) fell due at ``due``.

    The schedule of a timer start event belongs to the definition (the job), not to the instance:
    the instance's start event is made to fire at once, whatever its own expression would compute.
    The process's other start events are left out.
    """
    _leave_out_other_start_events(workflow, via)

    def fire_start_event() -> None:
        # Reach the start event with time far in the past, so its own expression cannot fire it too.
        with spiff_time(_LONG_AGO):
            workflow.do_engine_steps()
        fired = False
        for task in _event_tasks(workflow):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition) or not isinstance(task.task_spec, StartEvent):
                continue
            if task.workflow is not workflow or (via is not None and task.task_spec.bpmn_id != via):
                continue  # only the process's own start event that fell due
            past = (due - timedelta(microseconds=1)).isoformat()
            if isinstance(definition, CycleTimerEventDefinition):
                # One cycle left: its outgoing flows run once; SpiffWorkflow completes the event afterwards.
                task._set_internal_data(event_value={"cycles": 1, "next": past, "duration": 0.0})
            else:
                task._set_internal_data(event_value=past)
            fired = True
        if not fired:
            raise ProcessError("The process has no timer start event to fire")
        workflow.refresh_timers()

    return _run(workflow, fire_start_event, now)


def process_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance's variables as Camunda shows them: one flat view of its data.

    Data travels with tokens in SpiffWorkflow; the instance's variables are the data of its open
    tasks (merged, in tree order) or, once nothing is open, of the task that ran last.
    """
    merged: dict[str, Any] = dict(workflow.data)
    open_tasks = [t for t in workflow.get_tasks(state=_OPEN) if _is_bpmn_element(t)]
    if open_tasks:
        for task in open_tasks:
            merged.update(task.data)
    elif workflow.last_task is not None:
        merged.update(workflow.last_task.data)
    return {k: v for k, v in merged.items() if not callable(v)}


@dataclass(frozen=True)
class UserTaskRow:
    """What the task table stores for one open user task."""

    id: str
    task_definition_key: str
    name: str | None
    description: str | None
    assignee: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    priority: int
    form_key: str | None
    form_ref: str | None
    due: datetime | None
    #: What the request is about (the ``temats`` variable, by the process library's convention),
    #: so an inbox can show and search it without loading the workflow.
    subject: str | None = None


#: The process variable a task row takes its subject from.
SUBJECT_VARIABLE = "temats"
SUBJECT_LENGTH = 255


def _literal(value: str | None) -> str | None:
    # Attribute values a task row cannot evaluate (a task priority) are used only when literal.
    if not value or "${" in value or "#{" in value:
        return None
    return value


def _attribute(task: Task, value: str | None) -> Any:
    """A Camunda user task attribute (``camunda:assignee``, ``dueDate``, ``priority``...): the text, or with
    ``${...}`` the value of the expression over the task's data (an error names the element)."""
    if not value:
        return None
    return _parameter_value({"text": value}, task)


def _identities(task: Task, items: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for item in items:
        value = _attribute(task, item)
        values = value if isinstance(value, list | tuple | set) else str(value or "").split(",")
        found += [str(v).strip() for v in values if str(v).strip()]
    return tuple(dict.fromkeys(found))


def user_task_row(task: Task, now: datetime | None = None) -> UserTaskRow:
    """What the task table keeps of an open user task; expressions see ``now`` as the step's time."""
    with spiff_time(now or datetime.now(UTC)):
        return _user_task_row(task)


def _user_task_row(task: Task) -> UserTaskRow:
    spec: PlusmaUserTask = task.task_spec
    groups = _identities(task, spec.candidate_groups or ())
    users = _identities(task, spec.candidate_users or ())
    assignee_value = _attribute(task, spec.assignee)
    assignee = str(assignee_value) if assignee_value not in (None, "") else None
    if not groups and not users and not assignee and spec.lane:
        # A lane names the role that does the work: its members are the candidates.
        groups = (spec.lane,)
    priority = 50
    priority_value = _attribute(task, spec.priority)
    if priority_value not in (None, ""):
        try:
            priority = int(priority_value)
        except (TypeError, ValueError):
            raise ProcessError(
                f"element '{spec.bpmn_id}': camunda:priority {priority_value!r} is not a whole number", spec.bpmn_id
            ) from None
    due = _moment(task, spec.due_date, "dueDate")
    return UserTaskRow(
        id=str(task.id),
        task_definition_key=spec.bpmn_id,
        name=spec.bpmn_name,
        description=getattr(spec, "documentation", None),
        assignee=assignee,
        candidate_groups=groups,
        candidate_users=users,
        priority=priority,
        form_key=spec.form.key if spec.form is not None else None,
        form_ref=spec.form_ref,
        due=due,
        subject=_subject(task),
    )


def search_text(business_key: str | None, subject: str | None) -> str:
    """What an inbox search looks in: the business key and the subject, case-folded (also Latvian letters)."""
    return f"{business_key or ''}\n{subject or ''}".casefold()[:512]


def _subject(task: Task) -> str | None:
    value = task.data.get(SUBJECT_VARIABLE)
    if value is None or callable(value):
        return None
    text = " ".join(str(value).split())
    return text[:SUBJECT_LENGTH] or None


def _moment(task: Task, text: str | None, attribute: str) -> datetime | None:
    value = _attribute(task, text)
    if value in (None, ""):
        return None
    # Stored in UTC: SQLite keeps the wall-clock text only.
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parse_date(str(value)).astimezone(UTC)
    except ValueError:
        raise ProcessError(
            f"element '{task.task_spec.bpmn_id}': camunda:{attribute} {value!r} is not a date-time "
            "(ISO 8601, e.g. 2026-12-01T09:00:00+02:00, or ${due_in('3 darba dienas')})",
            task.task_spec.bpmn_id,
        ) from None


def _parameter_value(value: Any, task: Task) -> Any:
    """One camunda:inputParameter value: text with ``${...}`` expressions, or a list or map of values."""
    if "list" in value:
        return [_parameter_value(item, task) for item in value["list"]]
    if "map" in value:
        return {key: _parameter_value(item, task) for key, item in value["map"].items()}
    text = value.get("text")
    if text is None:
        return None
    body = camunda_expression_body(text)
    if body is not None:  # the whole text is one expression: keep its value's type
        return evaluate(body, task.data, task.task_spec.bpmn_id, outer=deadlines.FUNCTIONS)
    return _EXPRESSION_IN_TEXT.sub(
        lambda m: str(evaluate(m.group(1), task.data, task.task_spec.bpmn_id, outer=deadlines.FUNCTIONS)), text
    )


_EXPRESSION_IN_TEXT = re.compile(r"[$#]\{(.*?)\}", re.DOTALL)


def input_parameters(task: Task, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A service task's input parameters, evaluated against the task's data (over ``context``, e.g. the
    instance's ``businessKey``)."""
    view = _TaskView(task, {**context, **task.data}) if context else task
    return {name: _parameter_value(value, view) for name, value in getattr(task.task_spec, "input_parameters", [])}


def output_parameters(task: Task, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The process variables a connector's results give through its ``camunda:outputParameter``s.

    Without output parameters nothing of the results becomes a process variable, as in Camunda.
    """
    spec_outputs = getattr(task.task_spec, "output_parameters", None) or []
    if not spec_outputs:
        return {}
    # Output expressions see the connector's results over the task's data.
    view = _TaskView(task, {**task.data, **outputs})
    return {name: _parameter_value(value, view) for name, value in spec_outputs}


class _TaskView:
    """A task with other data: lets output expressions read the connector's results."""

    def __init__(self, task: Task, data: dict[str, Any]) -> None:
        self.task_spec = task.task_spec
        self.data = data


def complete_service_task(
    workflow: BpmnWorkflow, task_id: str, variables: dict[str, Any], now: datetime | None = None
) -> Step:
    """Complete a service task that waited for outside work, with that work's results, and run on."""
    task = find_task(workflow, task_id)
    if task.state != TaskState.STARTED:
        raise Conflict(f"Task {task_id} no longer waits for its service ({TaskState.get_name(task.state)})")

    def run_task() -> None:
        task.data.update(variables)
        task.complete()

    return _run(workflow, run_task, now)


def set_variables(workflow: BpmnWorkflow, variables: dict[str, Any], deletions: Iterable[str] = ()) -> None:
    """Set or delete process variables of a waiting instance, on every open task's data, where scripts see them."""
    open_tasks = [t for t in workflow.get_tasks(state=_OPEN) if _is_bpmn_element(t)]
    if not open_tasks:
        raise BadRequest("The instance has nothing open to hold variables")
    for task in open_tasks:
        # A waiting task merges its parent's data into its own on every update (SpiffWorkflow's
        # _update_hook): its parent must change too, or the change is undone.
        holders = [task, task.parent] if task.state == TaskState.WAITING and task.parent is not None else [task]
        for data in (holder.data for holder in holders):
            data.update(variables)
            for name in deletions:
                data.pop(name, None)


#: Where SpiffWorkflow would put a message's payload: Plūsma sets the message's variables itself.
_MESSAGE_RESULT = "__plusma_message"


def correlate_message(
    workflow: BpmnWorkflow,
    task_id: str,
    variables: dict[str, Any],
    now: datetime | None = None,
    *,
    name: str | None = None,
) -> Step:
    """Deliver the message ``name`` to the catch event, receive task or event-based gateway ``task_id`` waits
    with; its variables become process variables, as Camunda's ``processVariables`` do."""
    task = find_task(workflow, task_id)
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        definition = next(
            (d for d in definition.event_definitions if isinstance(d, MessageEventDefinition) and d.name == name),
            None,
        )
    if not isinstance(definition, MessageEventDefinition) or not task.has_state(TaskState.WAITING | TaskState.READY):
        raise Conflict(f"Task {task_id} no longer waits for a message")
    for holder in (task, task.parent) if task.parent is not None else (task,):
        holder.data.update(variables)

    def deliver() -> None:
        workflow.send_event(BpmnEvent(definition, payload={"payload": None, "result_var": _MESSAGE_RESULT}))

    step = _run(workflow, deliver, now)
    for each in _all_tasks(workflow):
        each.data.pop(_MESSAGE_RESULT, None)
    workflow.data.pop(_MESSAGE_RESULT, None)  # a completed workflow keeps its last task's data here
    return step
