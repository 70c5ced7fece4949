"""SpiffWorkflow's Camunda parser, extended with the Camunda 7 attributes Plūsma needs.

CamundaParser ignores who may work on a user task (``camunda:candidateGroups``, ``candidateUsers``,
``assignee``), Camunda Forms references (``camunda:formRef``), due dates and priority, and the
process-level attributes (``candidateStarterGroups``, ``versionTag``, ``historyTimeToLive``). This module
reads them, keeps them on the task spec, and teaches the serializer to store them. It also makes sure
SpiffWorkflow never parses XML itself: all of it goes through :func:`engine.parsing.xml.parse_xml`.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
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
    """The inside of a Camunda JUEL expression (``${amount > 100}`` -> ``amount > 100``), else None."""
    if text is None:
        return None
    match = _CAMUNDA_EXPRESSION.match(text)
    return match.group("body").strip() if match else None


def is_camunda_expression(text: str | None) -> bool:
    """True if ``text`` contains a JUEL ``${...}`` / ``#{...}`` expression anywhere."""
    return bool(text) and ("${" in text or "#{" in text)


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


class PlusmaParser(CamundaParser):
    """CamundaParser with Plūsma's user tasks, process attributes and hardened XML input.

    Only ``add_bpmn_xml`` / ``add_dmn_xml`` take parsed trees; every adder that takes text, bytes, a file
    or a file name parses with :func:`parse_xml` instead of lxml's default parser.
    """

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (PlusmaUserTaskParser, PlusmaUserTask),
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
