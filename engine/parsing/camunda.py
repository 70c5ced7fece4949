"""SpiffWorkflow's Camunda parser, extended with the Camunda 7 attributes Plūsma needs.

CamundaParser ignores who may work on a user task (``camunda:candidateGroups``, ``candidateUsers``,
``assignee``), Camunda Forms references (``camunda:formRef``), due dates and priority, and the
process-level attributes (``candidateStarterGroups``, ``versionTag``, ``historyTimeToLive``). This module
reads them, keeps them on the task spec, and teaches the serializer to store them. Service and send tasks
become :class:`PlusmaServiceTask`, which waits while an external task worker or a connector does the work.
It also makes sure SpiffWorkflow never parses XML itself: all of it goes through
:func:`engine.parsing.xml.parse_xml`.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, ServiceTask
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser, UserTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter
from SpiffWorkflow.camunda.specs.user_task import Form, UserTask

from engine.errors import InvalidModel, ModelProblem
from engine.parsing.xml import MAX_FILE_BYTES, has_doctype, parse_xml

# ---------------------------------------------------------------------------------------------------------
# Camunda attribute values


def split_camunda_list(value: str | None) -> list[str]:
    """Split a Camunda comma-separated list ("kac, l2") into stripped, non-empty items.

    Commas inside ``${...}`` / ``#{...}`` expressions do not split, as in Camunda.
    """
    if not value:
        return []
    items: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(value):
        ch = value[i]
        if ch in "$#" and value[i + 1 : i + 2] == "{":
            depth += 1
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == "{" and depth:
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


_CAMUNDA_EXPRESSION = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_JUEL_OPERATORS = [
    (r"&&", " and "),
    (r"\|\|", " or "),
    (r"!(?!=)", " not "),
    (r"\beq\b", "=="),
    (r"\bne\b", "!="),
    (r"\blt\b", "<"),
    (r"\bgt\b", ">"),
    (r"\ble\b", "<="),
    (r"\bge\b", ">="),
    (r"\bnull\b", "None"),
    (r"\btrue\b", "True"),
    (r"\bfalse\b", "False"),
]


def camunda_expression_body(text: str | None) -> str | None:
    """The inside of a text that is exactly one Camunda expression (``${amount > 100}`` -> ``amount > 100``),
    else None (also for ``${a} ${b}``, two expressions with text between them)."""
    if text is None or not _CAMUNDA_EXPRESSION.match(text):
        return None
    try:
        parts = expression_parts(text.strip())
    except ValueError:
        return None
    return parts[0].body if len(parts) == 1 and isinstance(parts[0], Expression) else None


def is_camunda_expression(text: str | None) -> bool:
    """True if ``text`` contains a JUEL ``${...}`` / ``#{...}`` expression anywhere."""
    return bool(text) and ("${" in text or "#{" in text)


@dataclass(frozen=True)
class Expression:
    """A ``${...}`` / ``#{...}`` part of a Camunda text value; ``body`` is a Python expression for the sandbox."""

    body: str


def expression_parts(text: str) -> list[str | Expression]:
    """Split a Camunda text value into literal text and ``${...}`` / ``#{...}`` expressions, in order.

    ``"Dear ${name}!"`` -> ``["Dear ", Expression("name"), "!"]``. As in Camunda, a text that is exactly one
    expression stands for the expression's value, anything else for the concatenated string; ``\\${`` is a
    literal ``${``. Braces and quotes inside an expression are matched, so ``${ {"a": 1}["a"] }`` is one
    expression. ValueError for an expression that is never closed.
    """
    parts: list[str | Expression] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("\\${", "\\#{"), i):
            literal.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text[i] in "$#" and text.startswith("{", i + 1):
            end = _expression_end(text, i + 2)
            if end is None:
                raise ValueError(f"the expression starting at {text[i : i + 30]!r} is not closed with }}")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Expression(text[i + 2 : end].strip()))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _expression_end(text: str, start: int) -> int | None:
    """Index of the ``}`` closing an expression whose body starts at ``start``; None if unclosed."""
    depth = 1
    quote: str | None = None
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1  # skip the escaped character
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def juel_to_python(body: str) -> str:
    """Best-effort translation of a JUEL expression body to Python, for error-message hints only."""
    # Translate only outside string literals.
    parts = re.split(r"(\"[^\"]*\"|'[^']*')", body)
    for index in range(0, len(parts), 2):
        part = parts[index]
        for pattern, replacement in _JUEL_OPERATORS:
            part = re.sub(pattern, replacement, part)
        parts[index] = part
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def parse_history_time_to_live(value: str | None) -> int | None:
    """``camunda:historyTimeToLive`` in days: Camunda accepts ``180`` or ``P180D``. ValueError otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = re.fullmatch(r"(?:P(\d+)D|(\d+))", text)
    if not match:
        raise ValueError(f"camunda:historyTimeToLive {value!r} is not a number of days (like 180 or P180D)")
    return int(match.group(1) or match.group(2))


# ---------------------------------------------------------------------------------------------------------
# User tasks


class PlusmaUserTask(UserTask):
    """A Camunda user task with the assignment, form and scheduling attributes Camunda 7 defines."""

    def __init__(
        self,
        wf_spec: Any,
        name: str,
        form: Form,
        candidate_groups: list[str] | None = None,
        candidate_users: list[str] | None = None,
        assignee: str | None = None,
        form_ref: str | None = None,
        form_ref_binding: str | None = None,
        form_ref_version: str | None = None,
        due_date: str | None = None,
        follow_up_date: str | None = None,
        priority: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, name, form, **kwargs)
        self.candidate_groups: list[str] = list(candidate_groups or [])
        self.candidate_users: list[str] = list(candidate_users or [])
        self.assignee = assignee
        self.form_ref = form_ref
        self.form_ref_binding = form_ref_binding
        self.form_ref_version = form_ref_version
        self.due_date = due_date
        self.follow_up_date = follow_up_date
        self.priority = priority

    @property
    def form_key(self) -> str | None:
        """``camunda:formKey`` (SpiffWorkflow keeps it on ``form.key``)."""
        return self.form.key or None


#: Attributes PlusmaUserTask adds to SpiffWorkflow's Camunda UserTask (also the serialized keys).
PLUSMA_USER_TASK_ATTRIBUTES = (
    "candidate_groups",
    "candidate_users",
    "assignee",
    "form_ref",
    "form_ref_binding",
    "form_ref_version",
    "due_date",
    "follow_up_date",
    "priority",
)


def _camunda_attribute(node: etree._Element, name: str) -> str | None:
    value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}")
    if value is None:
        return None
    value = value.strip()
    return value or None


class PlusmaUserTaskParser(UserTaskParser):
    """Reads the Camunda user task attributes CamundaParser ignores.

    No candidate groups stays an empty list here: the engine falls back to the lane's name later.
    """

    def create_task(self) -> PlusmaUserTask:
        node = self.node
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            form=self.get_form(),
            candidate_groups=split_camunda_list(node.get(f"{{{CAMUNDA_MODEL_NS}}}candidateGroups")),
            candidate_users=split_camunda_list(node.get(f"{{{CAMUNDA_MODEL_NS}}}candidateUsers")),
            assignee=_camunda_attribute(node, "assignee"),
            form_ref=_camunda_attribute(node, "formRef"),
            form_ref_binding=_camunda_attribute(node, "formRefBinding"),
            form_ref_version=_camunda_attribute(node, "formRefVersion"),
            due_date=_camunda_attribute(node, "dueDate"),
            follow_up_date=_camunda_attribute(node, "followUpDate"),
            priority=_camunda_attribute(node, "priority"),
            **self.bpmn_attributes,
        )


class PlusmaUserTaskConverter(UserTaskConverter):
    """Serializes PlusmaUserTask: the Camunda form plus the attributes above."""

    def to_dict(self, spec: PlusmaUserTask) -> dict:
        dct = super().to_dict(spec)
        for attr in PLUSMA_USER_TASK_ATTRIBUTES:
            value = getattr(spec, attr)
            dct[attr] = list(value) if isinstance(value, list) else value
        return dct

    def from_dict(self, dct: dict) -> PlusmaUserTask:
        # The extra keys reach PlusmaUserTask.__init__ as keyword arguments; states stored before a key
        # existed simply get the default.
        return super().from_dict(dct)


SERIALIZER_CONFIG = deepcopy(CAMUNDA_CONFIG)
SERIALIZER_CONFIG[PlusmaUserTask] = PlusmaUserTaskConverter


# ---------------------------------------------------------------------------------------------------------
# Service and send tasks


#: ``PlusmaServiceTask.implementation`` values.
EXTERNAL = "external"
CONNECTOR = "connector"

#: Attributes PlusmaServiceTask adds to SpiffWorkflow's ServiceTask (also the serialized keys).
PLUSMA_SERVICE_TASK_ATTRIBUTES = (
    "element_type",
    "implementation",
    "topic",
    "task_priority",
    "connector_id",
    "input_parameters",
    "output_parameters",
    "retry_time_cycle",
    "async_before",
)


class PlusmaServiceTask(ServiceTask):
    """A ``bpmn:serviceTask`` or ``bpmn:sendTask`` whose work is done outside the workflow.

    ``implementation`` is ``"external"`` (Camunda external task: a worker fetches it by ``topic`` through
    fetchAndLock) or ``"connector"`` (a connector job, ``connector_id`` names it). None only when the model
    names no supported implementation; deployment refuses such models, so a deployed spec never has it.

    ``input_parameters`` / ``output_parameters`` are ``[name, value]`` pairs in document order; a value is
    ``{"text": str | None}`` (None: the parameter is empty, Camunda's null; a text may hold ``${...}``
    expressions, see :func:`expression_parts`), ``{"list": [value, ...]}`` or ``{"map": {key: value}}``.
    For a connector they come from the connector's ``camunda:inputOutput``; for an external task from the
    task's own ``camunda:inputOutput`` (Camunda semantics: inputs become the task's local variables,
    outputs map the completed task's variables into the process).
    """

    def __init__(
        self,
        wf_spec: Any,
        name: str,
        element_type: str = "serviceTask",
        implementation: str | None = None,
        topic: str | None = None,
        task_priority: str | None = None,
        connector_id: str | None = None,
        input_parameters: list[list] | None = None,
        output_parameters: list[list] | None = None,
        retry_time_cycle: str | None = None,
        async_before: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, name, **kwargs)
        #: ``serviceTask`` or ``sendTask``: Camunda's activity type for history and the API.
        self.element_type = element_type
        self.implementation = implementation
        #: ``camunda:topic`` as written (may hold ``${...}`` expressions, as in Camunda).
        self.topic = topic
        #: ``camunda:taskPriority`` as written (a number or a ``${...}`` expression).
        self.task_priority = task_priority
        self.connector_id = connector_id
        self.input_parameters: list[list] = deepcopy(input_parameters or [])
        self.output_parameters: list[list] = deepcopy(output_parameters or [])
        #: ``camunda:failedJobRetryTimeCycle``, like ``R5/PT5M``.
        self.retry_time_cycle = retry_time_cycle
        #: ``camunda:asyncBefore``: kept for later, Plūsma runs every step synchronously for now.
        self.async_before = async_before

    def _run_hook(self, my_task: Any) -> None:
        # Returning None (not True) leaves the task STARTED: the workflow waits here while the engine hands
        # the work to an external task worker or a connector job. Whoever finishes that work calls
        # task.complete() and workflow.do_engine_steps() to resume the process.
        return None


def _camunda_children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    if parent is None:
        return []
    return [child for child in parent if child.tag == f"{{{CAMUNDA_MODEL_NS}}}{name}"]


def _camunda_child(parent: etree._Element | None, name: str) -> etree._Element | None:
    children = _camunda_children(parent, name)
    return children[0] if children else None


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Child elements, without comments and processing instructions."""
    return [child for child in parent if isinstance(child.tag, str)]


def _stripped_text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return (element.text or "").strip() or None


def extension_element(node: etree._Element, name: str) -> etree._Element | None:
    """The first ``camunda:NAME`` inside the ``bpmn:extensionElements`` of a BPMN element, else None."""
    extensions = node.find(full_tag("extensionElements"))
    return _camunda_child(extensions, name)


def parameter_value(element: etree._Element) -> dict:
    """The value of a ``camunda:inputParameter`` / ``outputParameter`` / ``entry`` / ``value`` element.

    Read as Camunda reads it: the element's text, or its one child element (``camunda:list``, ``map`` or
    ``value``). Shapes as on :class:`PlusmaServiceTask`. ValueError for what has no such shape (a
    ``camunda:script``, an unknown or second child element, a map item that is not an entry with a key); the
    deployment check reports those with their lines.
    """
    children = _elements(element)
    if not children:
        # As in Camunda: surrounding whitespace does not count and an empty parameter is null.
        text = (element.text or "").strip()
        return {"text": text or None}
    if len(children) > 1:
        raise ValueError(f"{len(children)} elements in one value; a value is a text or one camunda:list or map")
    return _value_element(children[0])


def _value_element(element: etree._Element) -> dict:
    """A ``camunda:list`` / ``map`` / ``value`` element: an item of a list, or the one child of a parameter."""
    kind = etree.QName(element).localname if element.tag.startswith(f"{{{CAMUNDA_MODEL_NS}}}") else None
    if kind == "value":
        return parameter_value(element)
    if kind == "list":
        return {"list": [_value_element(item) for item in _elements(element)]}
    if kind == "map":
        entries: dict[str, dict] = {}
        for entry in _elements(element):
            key = entry.get("key")
            if etree.QName(entry).localname != "entry" or not key:
                raise ValueError("every item of a camunda:map must be a camunda:entry with a key")
            entries[key] = parameter_value(entry)
        return {"map": entries}
    if kind == "script":
        raise ValueError("scripts in input/output parameters are not supported; use a script task")
    raise ValueError(f"unsupported element {etree.QName(element).localname!r} in a value")


def read_parameters(input_output: etree._Element | None) -> tuple[list[list], list[list]]:
    """``(input_parameters, output_parameters)`` of a ``camunda:inputOutput`` element (empty if None)."""
    result: tuple[list[list], list[list]] = ([], [])
    for index, kind in enumerate(("inputParameter", "outputParameter")):
        for parameter in _camunda_children(input_output, kind):
            name = (parameter.get("name") or "").strip()
            if not name:
                raise ValueError(f"a camunda:{kind} has no name")
            result[index].append([name, parameter_value(parameter)])
    return result


def service_task_implementation(node: etree._Element) -> str | None:
    """``external`` or ``connector`` as the model asks (connector wins if both); None if neither."""
    if extension_element(node, "connector") is not None:
        return CONNECTOR
    if (_camunda_attribute(node, "type") or "") == EXTERNAL:
        return EXTERNAL
    return None


class PlusmaServiceTaskParser(CamundaTaskParser):
    """Reads Camunda 7's external task and connector attributes of service and send tasks.

    It checks only what the spec could not hold at all; the deployment check reports everything else (Java
    delegates, missing topic, unknown connector...) with file, element and line.
    """

    def create_task(self) -> PlusmaServiceTask:
        node = self.node
        implementation = service_task_implementation(node)
        connector = extension_element(node, "connector")
        if implementation == CONNECTOR:
            io_element = _camunda_child(connector, "inputOutput")
            connector_id_element = _camunda_child(connector, "connectorId")
            connector_id = _stripped_text(connector_id_element)
        else:
            io_element = extension_element(node, "inputOutput")
            connector_id = None
        try:
            input_parameters, output_parameters = read_parameters(io_element)
        except ValueError as err:
            self.raise_validation_exception(str(err))
        retry = extension_element(node, "failedJobRetryTimeCycle")
        async_before = node.get(f"{{{CAMUNDA_MODEL_NS}}}asyncBefore") or node.get(f"{{{CAMUNDA_MODEL_NS}}}async")
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            element_type=etree.QName(node).localname,
            implementation=implementation,
            topic=_camunda_attribute(node, "topic"),
            task_priority=_camunda_attribute(node, "taskPriority"),
            connector_id=connector_id,
            input_parameters=input_parameters,
            output_parameters=output_parameters,
            retry_time_cycle=_stripped_text(retry),
            async_before=(async_before or "").strip().lower() == "true",
            **self.bpmn_attributes,
        )


class PlusmaServiceTaskConverter(TaskSpecConverter):
    """Serializes PlusmaServiceTask: the BPMN attributes plus the ones above (all plain JSON)."""

    def to_dict(self, spec: PlusmaServiceTask) -> dict:
        dct = self.get_default_attributes(spec)
        for attr in PLUSMA_SERVICE_TASK_ATTRIBUTES:
            dct[attr] = deepcopy(getattr(spec, attr))
        return dct

    def from_dict(self, dct: dict) -> PlusmaServiceTask:
        # Keys reach PlusmaServiceTask.__init__ as keyword arguments; keys added later get their defaults.
        return self.task_spec_from_dict(dct)


SERIALIZER_CONFIG[PlusmaServiceTask] = PlusmaServiceTaskConverter


# ---------------------------------------------------------------------------------------------------------
# Processes and the parser


@dataclass
class ProcessAttributes:
    """Process-level attributes Camunda 7 defines on ``bpmn:process``."""

    key: str
    name: str | None
    is_executable: bool
    starter_groups: list[str] = field(default_factory=list)
    starter_users: list[str] = field(default_factory=list)
    version_tag: str | None = None
    #: As written; see :func:`parse_history_time_to_live`.
    history_time_to_live: str | None = None


def process_attributes(node: etree._Element) -> ProcessAttributes:
    """Read the Camunda process attributes from a ``bpmn:process`` element."""
    # Camunda 7 and SpiffWorkflow both treat a missing isExecutable as executable.
    executable = (node.get("isExecutable") or "true").strip().lower() != "false"
    return ProcessAttributes(
        key=node.get("id") or "",
        name=node.get("name") or None,
        is_executable=executable,
        starter_groups=split_camunda_list(node.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterGroups")),
        starter_users=split_camunda_list(node.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterUsers")),
        version_tag=_camunda_attribute(node, "versionTag"),
        history_time_to_live=_camunda_attribute(node, "historyTimeToLive"),
    )


class PlusmaProcessParser(ProcessParser):
    """ProcessParser that also exposes the Camunda process attributes."""

    @property
    def attributes(self) -> ProcessAttributes:
        return process_attributes(self.node)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _refuse_doctype(tree: etree._Element | etree._ElementTree, filename: str | None) -> None:
    if has_doctype(tree):
        raise InvalidModel([ModelProblem(filename or "", "a DOCTYPE (DTD) is not allowed")])


class CamundaReceiveTaskParser(CamundaEventDefinitionParser, ReceiveTaskParser):
    """A receive task's message as the Camunda event parsers read it: SpiffWorkflow's own receive task parser
    makes the plain message definition, which the Camunda serializer configuration cannot store."""

    def create_task(self) -> ReceiveTask:
        return ReceiveTaskParser.create_task(self)


class PlusmaParser(CamundaParser):
    """CamundaParser with Plūsma's user and service tasks, process attributes and hardened XML input.

    Only ``add_bpmn_xml`` / ``add_dmn_xml`` take parsed trees; every adder that takes text, bytes, a file
    or a file name parses with :func:`parse_xml` instead of lxml's default parser.
    """

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (PlusmaUserTaskParser, PlusmaUserTask),
        # Camunda 7 runs send tasks exactly like service tasks (external task or connector).
        full_tag("serviceTask"): (PlusmaServiceTaskParser, PlusmaServiceTask),
        full_tag("sendTask"): (PlusmaServiceTaskParser, PlusmaServiceTask),
        full_tag("receiveTask"): (CamundaReceiveTaskParser, ReceiveTask),
    }
    PROCESS_PARSER_CLASS = PlusmaProcessParser

    def __init__(self, namespaces: dict | None = None, validator: Any = None) -> None:
        super().__init__(namespaces=namespaces, validator=validator)
        #: Top-level ``bpmn:process`` ids -> file name (``process_parsers`` also holds embedded subprocesses).
        self.top_level_processes: dict[str, str | None] = {}

    # --- BPMN input ---------------------------------------------------------------------------------------

    def add_bpmn_xml(self, bpmn: etree._Element | etree._ElementTree, filename: str | None = None) -> None:
        _refuse_doctype(bpmn, filename)
        super().add_bpmn_xml(bpmn, filename)

    def add_bpmn_str(self, bpmn_str: bytes | str, filename: str | None = None) -> None:
        self.add_bpmn_xml(parse_xml(_as_bytes(bpmn_str), filename or "<string>"), filename)

    def add_bpmn_io(self, file_like_object: IO, filename: str | None = None) -> None:
        data = file_like_object.read(MAX_FILE_BYTES + 1)  # one byte more, so parse_xml sees the excess
        self.add_bpmn_xml(parse_xml(_as_bytes(data), filename or "<stream>"), filename)

    def add_bpmn_files(self, filenames: list[str]) -> None:
        for filename in filenames:
            with open(filename, "rb") as f:
                self.add_bpmn_io(f, filename)

    # --- DMN input ----------------------------------------------------------------------------------------

    def add_dmn_xml(self, node: etree._Element, filename: str | None = None) -> None:
        _refuse_doctype(node, filename)
        super().add_dmn_xml(node, filename)

    def add_dmn_str(self, dmn_str: bytes | str, filename: str | None = None) -> None:
        self.add_dmn_xml(parse_xml(_as_bytes(dmn_str), filename or "<string>"), filename)

    def add_dmn_io(self, file_like_object: IO, filename: str | None = None) -> None:
        data = file_like_object.read(MAX_FILE_BYTES + 1)
        self.add_dmn_xml(parse_xml(_as_bytes(data), filename or "<stream>"), filename)

    def add_dmn_files(self, filenames: list[str]) -> None:
        for filename in filenames:
            with open(filename, "rb") as f:
                self.add_dmn_io(f, filename=filename)

    # --- processes ----------------------------------------------------------------------------------------

    def _add_processes(self, bpmn: Any, filename: str | None = None) -> None:
        for process in bpmn.xpath(".//bpmn:process", namespaces=self.namespaces):
            self.top_level_processes.setdefault(process.get("id"), filename)
        super()._add_processes(bpmn, filename)

    def _find_dependencies(self, process: etree._Element) -> None:
        # BpmnDmnParser reads camunda:decisionRef with node.attrib[...], so one business rule task without
        # it would abort the whole file with a bare KeyError; the deployment check reports it properly.
        BpmnParser._find_dependencies(self, process)
        for business_rule in process.xpath(".//bpmn:businessRuleTask", namespaces=self.namespaces):
            decision_ref = business_rule.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef")
            if decision_ref:
                self.dmn_dependencies.add(decision_ref)

    def get_process_attributes(self, process_id: str) -> ProcessAttributes:
        """The Camunda attributes of a process added to this parser (KeyError if unknown)."""
        return process_attributes(self.process_parsers[process_id].node)
