"""Parse and check one deployment: its BPMN, DMN and form files, all together.

Everything wrong is collected and reported at once, each problem naming the file, the element and the
line, so a process owner can fix a model in one round. Deploy-time checks also cover what SpiffWorkflow
would only find (or silently get wrong) at run time: Python conditions and scripts, timer values, form,
decision and call activity references.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from engine.errors import InvalidModel, ModelProblem, ScriptError
from engine.forms.errors import FormError
from engine.forms.schema import parse_form
from engine.parsing.camunda import (
    EXTERNAL,
    Expression,
    PlusmaParser,
    PlusmaServiceTask,
    PlusmaUserTask,
    camunda_expression_body,
    expression_parts,
    extension_element,
    is_camunda_expression,
    juel_to_python,
    parse_history_time_to_live,
    process_attributes,
)
from engine.parsing.timers import (
    TIME_DURATION,
    TIMER_KINDS,
    IsoTimer,
    check_timer_expression,
    parse_iso_timer,
    quote_bare_iso_timers,
)
from engine.parsing.xml import MAX_FILE_BYTES, parse_xml
from engine.scripting import compile_expression, compile_script
from engine.variables import parse_date

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DMN_NS_PREFIXES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
DMN_SUFFIXES = (".dmn", ".dmn11.xml")
FORM_SUFFIXES = (".form", ".json")

#: Form keys of this shape name a form resource of the same deployment (Camunda 7 convention).
DEPLOYMENT_FORM_KEY_PREFIX = "camunda-forms:deployment:"
_FORM_KEY_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
_CONDITIONAL_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}
_FLOW_NODES = _GATEWAYS | {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
}
_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}

#: SpiffWorkflow's DMN engine returns the first match for every policy but COLLECT, and never aggregates.
_SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "ANY", "COLLECT"}


#: Task spec names SpiffWorkflow uses for its own tasks in every process.
_RESERVED_IDS = frozenset({"Start", "End", "Root"})

MAIL_SEND = "mail-send"
#: Connectors Plūsma ships (``camunda:connectorId``) and the input parameters each one takes.
KNOWN_CONNECTORS: dict[str, tuple[str, ...]] = {
    MAIL_SEND: ("to", "cc", "bcc", "from", "fromAlias", "subject", "text", "html", "template", "language"),
}
_JAVA_DELEGATES = ("class", "delegateExpression", "expression")
_IMPLEMENTATIONS = (
    'use camunda:type="external" with a camunda:topic (an external task worker does the work) '
    f"or the {MAIL_SEND} connector"
)


_T = TypeVar("_T")


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _c(attr: str) -> str:
    return f"{{{CAMUNDA_MODEL_NS}}}{attr}"


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# ---------------------------------------------------------------------------------------------------------
# Result


@dataclass
class ParsedProcess:
    """One executable process of the deployment: a future process definition."""

    key: str
    name: str | None
    resource_name: str
    spec: BpmnProcessSpec
    #: Embedded subprocesses and called processes, as ``BpmnParser.get_subprocess_specs`` gives them.
    subprocess_specs: dict[str, BpmnProcessSpec]
    is_executable: bool
    starter_groups: list[str] = field(default_factory=list)
    starter_users: list[str] = field(default_factory=list)
    version_tag: str | None = None
    #: Days (``camunda:historyTimeToLive``), None when not set.
    history_time_to_live: int | None = None
    #: User tasks of the process and its embedded subprocesses (called processes have their own list).
    user_tasks: list[PlusmaUserTask] = field(default_factory=list)
    #: Service and send tasks, likewise.
    service_tasks: list[PlusmaServiceTask] = field(default_factory=list)


@dataclass
class ParsedForm:
    """A Camunda Forms (form-js) schema."""

    form_id: str
    resource_name: str
    schema: dict


@dataclass
class ParsedDecision:
    """A DMN decision (SpiffWorkflow runs one decision table per DMN file)."""

    key: str
    name: str | None
    resource_name: str


@dataclass
class ParsedDeployment:
    processes: list[ParsedProcess] = field(default_factory=list)
    forms: list[ParsedForm] = field(default_factory=list)
    decisions: list[ParsedDecision] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Expressions


def _juel_problem(what: str, text: str) -> str:
    """Message for a Camunda JUEL expression where Plūsma wants Python."""
    body = camunda_expression_body(text)
    if body is not None:
        suggestion = juel_to_python(body)
        try:
            compile_expression(suggestion)
            return (
                f"{what} {text.strip()!r} is a Camunda (JUEL) expression; Plūsma expressions are Python: "
                f"write {suggestion}"
            )
        except ScriptError:
            pass
    return f"{what} {text.strip()!r} is a Camunda (JUEL) expression; Plūsma expressions are Python"


def _expression_problem(what: str, text: str | None, element_id: str | None) -> str | None:
    """None if ``text`` is an acceptable Python expression, else the message saying why not."""
    if text is None or not text.strip():
        return f"{what} is empty"
    if is_camunda_expression(text):
        return _juel_problem(what, text)
    try:
        compile_expression(text, element_id)  # as stored: the run-time engine gets the same text
    except ScriptError as err:
        return f"{what} {text.strip()!r}: {err.reason}"
    return None


def unwrap_camunda_conditions(root: etree._Element) -> int:
    """In the tree SpiffWorkflow parses, turn each condition written ``${...}`` (as Camunda Modeler does)
    into its Python body; the deployed file keeps the modeller's text. Returns how many were changed."""
    changed = 0
    for condition in root.iter(_b("conditionExpression")):
        body = camunda_expression_body(condition.text)
        if body is not None:
            condition.text = body
            changed += 1
    return changed


def _embedded_expression_problem(what: str, text: str, element_id: str | None) -> str | None:
    """None if every ``${...}`` in a Camunda text value compiles in the sandbox, else why not.

    Unlike conditions, parameter and attribute values follow Camunda's ``${...}`` convention; the body of
    each expression is Python, compiled exactly as a condition is.
    """
    try:
        parts = expression_parts(text)
    except ValueError as err:
        return f"{what} {text!r}: {err}"
    for part in parts:
        if not isinstance(part, Expression):
            continue
        if not part.body:
            return f"{what} {text!r} has an empty expression ${{}}"
        try:
            compile_expression(part.body, element_id)
        except ScriptError as err:
            suggestion = juel_to_python(part.body)
            if suggestion != part.body:
                try:
                    compile_expression(suggestion)
                    return (
                        f"{what}: ${{{part.body}}} is written in JUEL; expression bodies are Python in Plūsma: "
                        f"write ${{{suggestion}}}"
                    )
                except ScriptError:
                    pass
            return f"{what}: expression ${{{part.body}}}: {err.reason}"
    return None


_RETRY_CYCLE = re.compile(r"R(\d+)/(.+)")


def parse_retry_time_cycle(text: str) -> tuple[int, IsoTimer]:
    """``camunda:failedJobRetryTimeCycle`` (``R5/PT5M``): the number of retries and the interval between
    them (an ``IsoTimer`` of kind timeDuration). ValueError saying what is wrong otherwise.

    Only this form is accepted: Camunda's lists of intervals and expressions are not.
    """
    value = (text or "").strip()
    match = _RETRY_CYCLE.fullmatch(value)
    if not match:
        raise ValueError(
            f"camunda:failedJobRetryTimeCycle {value!r} must be R<number of retries>/<ISO 8601 duration>, like R5/PT5M"
        )
    try:
        interval = parse_iso_timer(match.group(2), TIME_DURATION)
    except ValueError:
        raise ValueError(
            f"camunda:failedJobRetryTimeCycle {value!r}: {match.group(2)!r} is not a valid ISO 8601 duration "
            f"(like PT5M or P1D)"
        ) from None
    return int(match.group(1)), interval


# DMN input entries, read the way SpiffWorkflow's DMNEngine evaluates them: "-" or empty matches anything;
# "?" stands for the input value; text that parses as Python is compared with ==; otherwise it is appended
# to the input expression ("> 5" -> "amount > 5").
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_DMN_INPUT_PLACEHOLDER = "dmninputexpr"
_FEEL_RANGE = re.compile(r"^([\[\](])\s*([^,]+?)\s*\.\.\s*([^,]+?)\s*([\[\])])$")


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _feel_hint(text: str) -> str | None:
    """What a FEEL unary test means, written as Plūsma's Python, for the problem message."""
    stripped = text.strip()
    match = _FEEL_RANGE.match(stripped)
    if match:
        opening, low, high, closing = match.groups()
        left = "<=" if opening == "[" else "<"
        right = "<=" if closing == "]" else "<"
        return f"a FEEL range; in Python write {low} {left} ? {right} {high}"
    match = re.match(r"^not\s*\((.*)\)$", stripped, re.DOTALL)
    if match:
        inner = match.group(1).strip()
        python = f"? not in ({inner})" if "," in inner else f"? != {inner}"
        return f"a FEEL negation; in Python write {python}"
    try:
        node = ast.parse(stripped, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Tuple) and not stripped.startswith("("):
        return f"a FEEL list of alternatives; in Python write ? in ({stripped})"
    return None


def _dmn_input_entry_problem(text: str | None, element_id: str | None) -> str | None:
    if text is None or not text.strip() or text.strip() == "-":
        return None
    entry = text.strip()
    what = f"input entry {entry!r}"
    if is_camunda_expression(entry):
        return _juel_problem(what, entry)
    hint = _feel_hint(entry)
    if hint:
        return f"{what} is {hint}"
    if _DMN_QUESTION_MARK.search(entry):
        combined = _DMN_QUESTION_MARK.sub(_DMN_INPUT_PLACEHOLDER, entry)
    elif _parses(entry):
        combined = f"({_DMN_INPUT_PLACEHOLDER}) == ({entry})"
    elif _parses(f"v {entry}"):
        combined = f"{_DMN_INPUT_PLACEHOLDER} {entry}"
    else:
        return (
            f'{what} is neither a Python value (like "gold" or 5) nor a comparison (like > 5 or '
            f"? in (1, 2)); DMN entries in Plūsma are Python, not FEEL"
        )
    try:
        compile_expression(combined, element_id)
    except ScriptError as err:
        return f"{what}: {err.reason}"
    return None


# ---------------------------------------------------------------------------------------------------------
# The check


def parse_deployment(files: Mapping[str, bytes], deployed_form_ids: Collection[str] = ()) -> ParsedDeployment:
    """Parse and check every file of one deployment; raise ``InvalidModel`` listing all problems.

    ``files`` maps resource names to contents. ``deployed_form_ids`` are form ids already deployed, which
    ``camunda:formRef`` (binding ``latest`` or ``version``) may name besides this deployment's forms.
    """
    return _DeploymentCheck(files, deployed_form_ids).run()


class _DeploymentCheck:
    def __init__(self, files: Mapping[str, bytes], deployed_form_ids: Collection[str]) -> None:
        self.files = files
        self.deployed_form_ids = set(deployed_form_ids)
        self.problems: list[ModelProblem] = []
        #: (file, element id) pairs whose problem SpiffWorkflow would report again, less clearly.
        self.covered: set[tuple[str, str]] = set()
        self.bpmn: dict[str, etree._Element] = {}
        self.dmn: dict[str, etree._Element] = {}
        self.form_resources: set[str] = set()
        self.forms: list[ParsedForm] = []
        self.decisions: list[ParsedDecision] = []
        self.ids_by_file: dict[str, dict[str, etree._Element]] = {}
        #: Executable top-level processes: key -> (file, element).
        self.executable: dict[str, tuple[str, etree._Element]] = {}
        self.duplicate_files: set[str] = set()
        #: Decisions SpiffWorkflow could not load: business rule tasks naming them are not reported again.
        self.broken_decisions: set[str] = set()
        self.parser = PlusmaParser()

    # --- recording ------------------------------------------------------------------------------------

    def problem(
        self,
        file: str,
        message: str,
        element: etree._Element | None = None,
        element_id: str | None = None,
        line: int | None = None,
        cover: bool = False,
    ) -> None:
        if element is not None:
            element_id = element_id or element.get("id")
            line = line or element.sourceline
        self.problems.append(ModelProblem(file, message, element_id=element_id, line=line))
        if cover and element_id:
            self.covered.add((file, element_id))

    # --- driver ---------------------------------------------------------------------------------------

    def run(self) -> ParsedDeployment:
        for name, content in self.files.items():
            self.read_file(name, content)
        self.check_forms_unique()
        for name, root in self.dmn.items():
            self.check_dmn(name, root)
        for name, root in self.bpmn.items():
            self.index_bpmn(name, root)
        for name, root in self.bpmn.items():
            self.check_bpmn(name, root)
        processes = self.parse_processes()
        if self.problems:
            raise InvalidModel(_unique(self.problems))
        self.resolve_deployment_form_keys(processes)
        return ParsedDeployment(processes=processes, forms=self.forms, decisions=self.decisions)

    def resolve_deployment_form_keys(self, processes: list[ParsedProcess]) -> None:
        """A ``camunda-forms:deployment:NAME`` form key names a file; give the task that file's form id,
        so everything after deployment finds the form by id, as with ``camunda:formRef``."""
        form_ids = {form.resource_name: form.form_id for form in self.forms}
        for process in processes:
            for user_task in process.user_tasks:
                key = user_task.form_key or ""
                if user_task.form_ref is None and key.startswith(DEPLOYMENT_FORM_KEY_PREFIX):
                    user_task.form_ref = form_ids[key[len(DEPLOYMENT_FORM_KEY_PREFIX) :]]

    # --- files ----------------------------------------------------------------------------------------

    def read_file(self, name: str, content: bytes) -> None:
        lower = name.lower()
        if lower.endswith(BPMN_SUFFIXES):
            kind = "bpmn"
        elif lower.endswith(DMN_SUFFIXES):
            kind = "dmn"
        elif lower.endswith(FORM_SUFFIXES):
            kind = "form"
        else:
            self.problem(name, "unsupported file type: expected .bpmn, .bpmn20.xml, .dmn, .dmn11.xml, .form or .json")
            return
        if len(content) > MAX_FILE_BYTES:
            self.problem(name, f"file is too large ({len(content)} bytes; at most {MAX_FILE_BYTES} bytes)")
            return
        if kind == "form":
            self.form_resources.add(name)
            self.read_form(name, content)
            return
        try:
            root = parse_xml(content, name)
        except InvalidModel as err:
            self.problems.extend(err.problems)
            return
        self.ids_by_file[name] = self.index_ids(name, root)
        if kind == "bpmn":
            if root.tag != _b("definitions"):
                self.problem(
                    name,
                    f"not a BPMN 2.0 file: the root element is {_describe_tag(root)}, expected bpmn:definitions",
                    line=root.sourceline,
                )
                return
            self.bpmn[name] = root
        else:
            namespace = etree.QName(root).namespace or ""
            if _local(root) != "definitions" or not namespace.startswith(_DMN_NS_PREFIXES):
                self.problem(
                    name,
                    f"not a DMN file: the root element is {_describe_tag(root)}, expected DMN definitions",
                    line=root.sourceline,
                )
                return
            self.dmn[name] = root

    def index_ids(self, name: str, root: etree._Element) -> dict[str, etree._Element]:
        ids: dict[str, etree._Element] = {}
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            element_id = element.get("id")
            if element_id is None:
                continue
            if element_id in ids:
                self.problem(
                    name, f"duplicate id {element_id!r} (first used on line {ids[element_id].sourceline})", element
                )
            elif element_id in _RESERVED_IDS and name.lower().endswith(BPMN_SUFFIXES):
                # SpiffWorkflow names its own internal tasks so; an element with that id silently breaks the flow.
                self.problem(name, f"the id {element_id!r} is reserved by the engine; rename the element", element)
            else:
                ids[element_id] = element
        return ids

    # --- forms ----------------------------------------------------------------------------------------

    def read_form(self, name: str, content: bytes) -> None:
        try:
            schema = json.loads(content)
        except json.JSONDecodeError as err:
            self.problem(name, f"invalid JSON: {err.msg} (line {err.lineno}, column {err.colno})", line=err.lineno)
            return
        except UnicodeDecodeError as err:
            self.problem(name, f"not UTF-8 text: {err.reason} at byte {err.start}")
            return
        if not isinstance(schema, dict):
            self.problem(name, "not a Camunda form: the JSON must be an object with an id and components")
            return
        form_id = schema.get("id")
        ok = True
        if not isinstance(form_id, str) or not form_id.strip():
            self.problem(name, 'form has no id: a Camunda form needs a non-empty string "id"')
            ok = False
        if not isinstance(schema.get("components"), list):
            self.problem(name, 'form "components" must be a list')
            ok = False
        if ok:
            try:
                # The staff UI renders and validates the form from this schema: refuse now what it could not.
                parse_form(schema)
            except FormError as err:
                self.problem(name, err.reason, element_id=err.component_id)
                return
            self.forms.append(ParsedForm(form_id=form_id, resource_name=name, schema=schema))

    def check_forms_unique(self) -> None:
        seen: dict[str, str] = {}
        for form in self.forms:
            if form.form_id in seen:
                self.problem(
                    form.resource_name,
                    f"form id {form.form_id!r} is also used by {seen[form.form_id]} in this deployment",
                )
            else:
                seen[form.form_id] = form.resource_name

    # --- DMN ------------------------------------------------------------------------------------------

    def check_dmn(self, name: str, root: etree._Element) -> None:
        decisions = [el for el in root if _local(el) == "decision"]
        if not decisions:
            self.problem(name, "no decision in this DMN file", line=root.sourceline)
            return
        if len(decisions) > 1:
            self.broken_decisions.update(d.get("id") for d in decisions if d.get("id"))
            self.problem(
                name,
                f"{len(decisions)} decisions in one file: Plūsma evaluates one decision table per "
                f"DMN file; put each decision in its own file",
                decisions[1],
            )
            return
        decision = decisions[0]
        key = decision.get("id")
        if not key:
            self.problem(name, "decision has no id", decision)
            return
        other = next((d.resource_name for d in self.decisions if d.key == key), None)
        if other is not None:
            self.problem(name, f"decision id {key!r} is also used by {other} in this deployment", decision)
            return
        tables = [el for el in decision if _local(el) == "decisionTable"]
        if not tables:
            self.broken_decisions.add(key)
            self.problem(name, "decision has no decision table (literal expressions are not supported)", decision)
            return
        before = len(self.problems)
        self.check_decision_table(name, tables[0])
        try:
            self.parser.add_dmn_xml(root, name)
            self.parser.dmn_parsers[key].parse()
        except ValidationException as err:
            self.spiff_problem(err, name)
        except Exception as err:  # SpiffWorkflow's DMN parser fails with bare KeyErrors etc.
            self.problem(name, f"cannot read the decision: {type(err).__name__}: {err}", decision)
        if len(self.problems) != before:
            self.broken_decisions.add(key)
        # Listed even when broken, so business rule tasks naming it are not reported as well.
        self.decisions.append(ParsedDecision(key=key, name=decision.get("name") or None, resource_name=name))

    def check_decision_table(self, name: str, table: etree._Element) -> None:
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in _SUPPORTED_HIT_POLICIES or table.get("aggregation"):
            shown = f"{policy} with aggregation {table.get('aggregation')}" if table.get("aggregation") else policy
            self.problem(
                name,
                f"hit policy {shown} is not supported (supported: UNIQUE, FIRST, ANY, COLLECT without aggregation)",
                table,
            )
        for element in table:
            local = _local(element)
            if local == "input":
                expression = next((el for el in element if _local(el) == "inputExpression"), None)
                text_el = _dmn_text(expression)
                language = expression.get("expressionLanguage") if expression is not None else None
                if language and language.lower() != "python":
                    self.problem(
                        name,
                        f"input expression language {language!r} is not supported; Plūsma expressions are Python",
                        expression,
                    )
                    continue
                message = _expression_problem("input expression", _text(text_el), element.get("id"))
                if message:
                    self.problem(name, message, element, line=_line(text_el, element))
            elif local == "rule":
                for entry in element:
                    entry_local = _local(entry)
                    if entry_local not in ("inputEntry", "outputEntry"):
                        continue
                    text_el = _dmn_text(entry)
                    language = entry.get("expressionLanguage")
                    if language and language.lower() != "python":
                        self.problem(
                            name,
                            f"expression language {language!r} is not supported; Plūsma expressions are Python",
                            entry,
                        )
                        continue
                    text = _text(text_el)
                    if entry_local == "inputEntry":
                        message = _dmn_input_entry_problem(text, entry.get("id"))
                    elif text is None or not text.strip():
                        message = None  # an empty output entry yields ""
                    else:
                        message = _expression_problem("output entry", text, entry.get("id"))
                    if message:
                        self.problem(name, message, entry, line=_line(text_el, entry), cover=True)

    # --- BPMN: static checks ----------------------------------------------------------------------------

    def index_bpmn(self, name: str, root: etree._Element) -> None:
        processes = root.findall(_b("process"))
        any_executable = False
        for process in processes:
            attrs = process_attributes(process)
            if not attrs.is_executable:
                continue
            any_executable = True
            if not attrs.key:
                self.problem(name, "process has no id", process)
                continue
            if attrs.key in self.executable:
                other = self.executable[attrs.key][0]
                where = "earlier in this file" if other == name else f"in {other}"
                self.problem(name, f"process id {attrs.key!r} is also defined {where}", process)
                # SpiffWorkflow would stop half-way through this file on the duplicate: leave it out.
                self.duplicate_files.add(name)
                continue
            self.executable[attrs.key] = (name, process)
        if not any_executable:
            reason = 'every process has isExecutable="false"' if processes else "the file has no bpmn:process"
            self.problem(name, f"no executable process: {reason}", line=root.sourceline)

    def check_bpmn(self, name: str, root: etree._Element) -> None:
        decision_keys = {d.key for d in self.decisions}
        for file, process in self.executable.values():
            if file != name:
                continue
            try:
                parse_history_time_to_live(process_attributes(process).history_time_to_live)
            except ValueError as err:
                self.problem(name, str(err), process)
            for container in _containers(process):
                self.check_flows(name, container)
            for task in process.iter(_b("scriptTask")):
                self.check_script(name, task)
            for definition in process.iter(_b("timerEventDefinition")):
                self.check_timer(name, definition)
            for event in process.iter(_b("boundaryEvent")):
                if not any(_local(child).endswith("EventDefinition") for child in event):
                    self.problem(
                        name, "boundary event has no event definition (timer, message, error, ...)", event, cover=True
                    )
            for task in process.iter(_b("businessRuleTask")):
                self.check_business_rule(name, task, decision_keys)
            for task in _iter_many(process, ("serviceTask", "sendTask")):
                self.check_service_task(name, task)
            for activity in process.iter(_b("callActivity")):
                self.check_call_activity(name, activity)
            for element in _iter_many(process, ("userTask", "startEvent")):
                self.check_form_reference(name, element)
            for task in process.iter(_b("userTask")):
                self.check_user_task_attributes(name, task)

    def check_flows(self, name: str, container: etree._Element) -> None:
        nodes = {el.get("id"): el for el in container if _local(el) in _FLOW_NODES and el.get("id")}
        outgoing: dict[str, int] = {}
        file_ids = self.ids_by_file.get(name, {})
        for flow in container.findall(_b("sequenceFlow")):
            for ref_attr in ("sourceRef", "targetRef"):
                ref = flow.get(ref_attr)
                if not ref:
                    self.problem(name, f"sequence flow has no {ref_attr}", flow)
                elif ref not in nodes:
                    where = "does not exist" if ref not in file_ids else "is not in the same process or subprocess"
                    self.problem(name, f"sequence flow {ref_attr} {ref!r} {where}", flow)
                    # SpiffWorkflow would fail on the flow's source with a confusing message.
                    if flow.get("sourceRef"):
                        self.covered.add((name, flow.get("sourceRef")))
            source = nodes.get(flow.get("sourceRef") or "")
            if source is not None:
                outgoing[source.get("id")] = outgoing.get(source.get("id"), 0) + 1
            self.check_condition(name, flow, source)
        for node_id, node in nodes.items():
            if _local(node) in _GATEWAYS and not outgoing.get(node_id):
                self.problem(name, f"{_local(node)} has no outgoing sequence flow", node, cover=True)

    def check_condition(self, name: str, flow: etree._Element, source: etree._Element | None) -> None:
        condition = flow.find(_b("conditionExpression"))
        if condition is None:
            return
        language = condition.get("language")
        if condition.get(_c("resource")):
            self.problem(
                name,
                "condition refers to an external resource (camunda:resource); write the Python condition inline",
                flow,
                line=condition.sourceline,
            )
        elif language and language.strip().lower() != "python":
            self.problem(
                name,
                f"condition language {language!r} is not supported; Plūsma conditions are Python expressions",
                flow,
                line=condition.sourceline,
            )
        else:
            # ${...} as Camunda Modeler writes a condition: its body is the Python condition.
            body = camunda_expression_body(condition.text)
            message = _expression_problem("condition", body or condition.text, flow.get("id"))
            if message and body and juel_to_python(body) != body:
                message += f"; conditions are Python: write {juel_to_python(body)}"
            if message:
                self.problem(name, message, flow, line=condition.sourceline, cover=True)
        if source is not None and _local(source) not in _GATEWAYS:
            self.problem(
                name,
                f"conditional sequence flows leaving a {_local(source)} are not supported; put an "
                f"exclusive gateway after {source.get('id')!r}",
                flow,
                line=condition.sourceline,
            )

    def check_script(self, name: str, task: etree._Element) -> None:
        script_format = (task.get("scriptFormat") or "").strip()
        if script_format and script_format.lower() != "python":
            self.problem(
                name, f"script format {script_format!r} is not supported; Plūsma scripts are Python", task, cover=True
            )
            return
        if task.get(_c("resource")):
            self.problem(
                name, "external scripts (camunda:resource) are not supported; write the script inline", task, cover=True
            )
            return
        if task.get(_c("resultVariable")):
            self.problem(
                name,
                "camunda:resultVariable is not supported for Python scripts; assign the variable in the script",
                task,
            )
        script = task.find(_b("script"))
        if script is None or not (script.text or "").strip():
            self.problem(name, "script task has no script", task, cover=True)
            return
        try:
            compile_script(script.text, task.get("id"))
        except ScriptError as err:
            self.problem(name, f"script: {err.reason}", task, line=script.sourceline)

    def check_timer(self, name: str, definition: etree._Element) -> None:
        event = definition.getparent()
        values = [el for el in definition if _local(el) in TIMER_KINDS]
        if not values:
            self.problem(
                name, "timer has no timeDate, timeDuration or timeCycle", event, line=definition.sourceline, cover=True
            )
            return
        if len(values) > 1:
            self.problem(
                name,
                "timer has more than one of timeDate, timeDuration and timeCycle",
                event,
                line=values[1].sourceline,
                cover=True,
            )
            return
        value = values[0]
        try:
            check_timer_expression(value.text or "", _local(value), event.get("id"))
        except ScriptError as err:
            self.problem(name, err.reason, event, line=value.sourceline, cover=True)

    def check_business_rule(self, name: str, task: etree._Element, decision_keys: set[str]) -> None:
        ref = (task.get(_c("decisionRef")) or "").strip()
        if not ref:
            other = next((a for a in ("class", "expression", "delegateExpression", "type") if task.get(_c(a))), None)
            detail = f" (camunda:{other} is not supported)" if other else ""
            self.problem(
                name,
                f"business rule task has no camunda:decisionRef{detail}; only DMN decisions of the "
                f"deployment are supported",
                task,
                cover=True,
            )
        elif is_camunda_expression(ref):
            self.problem(
                name, f"camunda:decisionRef {ref!r} must be a decision id, not an expression", task, cover=True
            )
        elif ref in self.broken_decisions:
            self.covered.add((name, task.get("id") or ""))  # the decision's own problems say enough
        elif ref not in decision_keys:
            known = ", ".join(sorted(decision_keys)) or "none"
            self.problem(
                name,
                f"camunda:decisionRef {ref!r} names no decision in this deployment (decisions: {known})",
                task,
                cover=True,
            )

    def check_call_activity(self, name: str, activity: etree._Element) -> None:
        ref = (activity.get("calledElement") or "").strip()
        if not ref:
            self.problem(name, "call activity has no calledElement", activity, cover=True)
        elif is_camunda_expression(ref):
            self.problem(name, f"calledElement {ref!r} must be a process id, not an expression", activity, cover=True)
        elif ref not in self.executable:
            self.problem(
                name, f"calledElement {ref!r} names no executable process in this deployment", activity, cover=True
            )

    def check_form_reference(self, name: str, element: etree._Element) -> None:
        form_ref = (element.get(_c("formRef")) or "").strip()
        form_key = (element.get(_c("formKey")) or "").strip()
        if form_ref and form_key:
            self.problem(name, "only one of camunda:formKey and camunda:formRef may be set", element)
            return
        local_ids = {form.form_id for form in self.forms}
        if form_ref:
            binding = (element.get(_c("formRefBinding")) or "latest").strip()
            if binding not in ("latest", "deployment", "version"):
                self.problem(name, f"camunda:formRefBinding {binding!r} must be latest, deployment or version", element)
                return
            if binding == "version" and not (element.get(_c("formRefVersion")) or "").strip():
                self.problem(name, 'camunda:formRefBinding="version" needs camunda:formRefVersion', element)
            if is_camunda_expression(form_ref):
                return  # evaluated when the task is created
            known = local_ids if binding == "deployment" else local_ids | self.deployed_form_ids
            if form_ref not in known:
                where = "this deployment" if binding == "deployment" else "this deployment or any deployed form"
                self.problem(name, f"camunda:formRef {form_ref!r} names no form in {where}", element)
            return
        if not form_key or is_camunda_expression(form_key):
            return
        if form_key.startswith(DEPLOYMENT_FORM_KEY_PREFIX):
            resource = form_key[len(DEPLOYMENT_FORM_KEY_PREFIX) :]
            if resource not in self.files:
                self.problem(
                    name, f"camunda:formKey names form resource {resource!r}, which is not in this deployment", element
                )
            elif resource not in self.form_resources:
                self.problem(name, f"camunda:formKey names {resource!r}, which is not a form (.form or .json)", element)
        elif _FORM_KEY_SCHEME.match(form_key):
            return  # embedded:, app:, camunda-forms:app: ... are served elsewhere
        elif form_key not in local_ids | self.deployed_form_ids:
            self.problem(
                name, f"camunda:formKey {form_key!r} names no form in this deployment or any deployed form", element
            )

    # --- BPMN: service and send tasks ---------------------------------------------------------------

    def check_user_task_attributes(self, name: str, task: etree._Element) -> None:
        """Who may work on a user task, its priority and its dates: each ``${...}`` must compile, and a
        literal priority or date must be one; otherwise the step creating the task would fail."""
        what = f"userTask {task.get('id')!r}"
        for attribute in ("assignee", "candidateGroups", "candidateUsers", "priority", "dueDate", "followUpDate"):
            value = (task.get(_c(attribute)) or "").strip()
            if not value:
                continue
            if is_camunda_expression(value):
                self.check_text(name, task, f"{what}: camunda:{attribute}", value, task)
            elif attribute == "priority" and not re.fullmatch(r"[+-]?\d+", value):
                self.problem(name, f"{what}: camunda:priority {value!r} is not a whole number", task)
            elif attribute in ("dueDate", "followUpDate"):
                try:
                    parse_date(value)
                except ValueError:
                    self.problem(
                        name,
                        f"{what}: camunda:{attribute} {value!r} is not a date-time "
                        "(ISO 8601, e.g. 2026-12-01T09:00:00+02:00, or ${due_in('3 darba dienas')})",
                        task,
                    )

    def check_service_task(self, name: str, task: etree._Element) -> None:
        """An external task or a known connector, as Camunda 7 models them; nothing that needs Java."""
        what = f"{_local(task)} {task.get('id')!r}"
        delegates = [attr for attr in _JAVA_DELEGATES if task.get(_c(attr)) is not None]
        for attr in delegates:
            self.problem(
                name, f"{what} uses camunda:{attr}: Java delegates cannot run in Plūsma; {_IMPLEMENTATIONS}", task
            )
        task_type = task.get(_c("type"))
        external = task_type is not None and task_type.strip() == EXTERNAL
        if task_type is not None and not external:
            self.problem(
                name,
                f'{what} has camunda:type {task_type.strip()!r}; only camunda:type="external" is supported '
                f"(or a camunda:connector)",
                task,
            )
        connector = extension_element(task, "connector")
        task_io = extension_element(task, "inputOutput")
        if not delegates and task_type is None and connector is None:
            hint = ' (it has a camunda:topic but no camunda:type="external")' if task.get(_c("topic")) else ""
            self.problem(name, f"{what} needs an implementation{hint}: {_IMPLEMENTATIONS}", task)
        if external and connector is not None:
            self.problem(
                name,
                f'{what} has both camunda:type="external" and a camunda:connector; use one of them',
                task,
                line=connector.sourceline,
            )
        elif external:
            topic = (task.get(_c("topic")) or "").strip()
            if not topic:
                self.problem(
                    name, f'{what} has camunda:type="external" but no camunda:topic for workers to fetch it by', task
                )
            else:
                self.check_text(name, task, f"{what}: camunda:topic", topic, task)
        elif connector is not None:
            self.check_connector(name, task, what, connector)
            if task_io is not None:
                # Camunda would map these around the connector; Plūsma keeps one set of parameters.
                self.problem(
                    name,
                    f"{what} has a camunda:inputOutput outside its camunda:connector; put the parameters in the "
                    f"connector's camunda:inputOutput",
                    task,
                    line=task_io.sourceline,
                )
        if connector is None:
            self.check_parameters(name, task, what, task_io)
        priority = (task.get(_c("taskPriority")) or "").strip()
        if priority and is_camunda_expression(priority):
            self.check_text(name, task, f"{what}: camunda:taskPriority", priority, task)
        elif priority and not re.fullmatch(r"[+-]?\d+", priority):
            self.problem(name, f"{what}: camunda:taskPriority {priority!r} is not a whole number", task)
        self.check_retry_cycle(name, task, what)
        # SpiffWorkflow's parser would only repeat a parameter problem reported here, less clearly.
        self.covered.add((name, task.get("id") or ""))

    def check_connector(self, name: str, task: etree._Element, what: str, connector: etree._Element) -> None:
        id_element = next((el for el in connector if _local(el) == "connectorId"), None)
        connector_id = (_text(id_element) or "").strip()
        known = ", ".join(sorted(KNOWN_CONNECTORS))
        if not connector_id:
            self.problem(
                name,
                f"{what}: camunda:connector has no camunda:connectorId (known: {known})",
                task,
                line=connector.sourceline,
            )
        elif connector_id not in KNOWN_CONNECTORS:
            self.problem(
                name,
                f"{what}: unknown connector {connector_id!r} (known: {known})",
                task,
                line=id_element.sourceline,
            )
        io_element = next((el for el in connector if _local(el) == "inputOutput"), None)
        inputs = self.check_parameters(name, task, what, io_element)
        if connector_id != MAIL_SEND:
            return
        line = io_element.sourceline if io_element is not None else connector.sourceline
        if "to" not in inputs:
            self.problem(name, f'{what}: the {MAIL_SEND} connector needs a "to" input parameter', task, line=line)
        if "template" not in inputs and "subject" not in inputs:
            self.problem(
                name,
                f'{what}: the {MAIL_SEND} connector needs a "subject" or a "template" input parameter',
                task,
                line=line,
            )
        for parameter_name, element in inputs.items():
            if parameter_name not in KNOWN_CONNECTORS[MAIL_SEND]:
                self.problem(
                    name,
                    f"{what}: the {MAIL_SEND} connector has no parameter {parameter_name!r} "
                    f"(parameters: {', '.join(KNOWN_CONNECTORS[MAIL_SEND])})",
                    task,
                    line=element.sourceline,
                )

    def check_parameters(
        self, name: str, task: etree._Element, what: str, io_element: etree._Element | None
    ) -> dict[str, etree._Element]:
        """Check a ``camunda:inputOutput``; returns its input parameters by name."""
        inputs: dict[str, etree._Element] = {}
        if io_element is None:
            return inputs
        for parameter in io_element:
            kind = _local(parameter)
            if kind not in ("inputParameter", "outputParameter"):
                continue
            parameter_name = (parameter.get("name") or "").strip()
            if not parameter_name:
                self.problem(name, f"{what}: a camunda:{kind} has no name", task, line=parameter.sourceline)
                continue
            if kind == "inputParameter":
                inputs.setdefault(parameter_name, parameter)
            self.check_parameter_value(name, task, f"{what}: parameter {parameter_name!r}", parameter)
        return inputs

    def check_parameter_value(self, name: str, task: etree._Element, what: str, element: etree._Element) -> None:
        """A parameter, map entry or ``camunda:value``: a text, or one list, map or value element."""
        children = [child for child in element if isinstance(child.tag, str)]
        if not children:
            text = (element.text or "").strip()
            if text:
                self.check_text(name, task, what, text, element)
            return
        if len(children) > 1:
            self.problem(
                name,
                f"{what} has {len(children)} elements; a value is a text or one camunda:list or camunda:map",
                task,
                line=children[1].sourceline,
            )
            return
        self.check_value_element(name, task, what, children[0])

    def check_value_element(self, name: str, task: etree._Element, what: str, element: etree._Element) -> None:
        kind = _local(element) if etree.QName(element).namespace == CAMUNDA_MODEL_NS else None
        if kind == "value":
            self.check_parameter_value(name, task, what, element)
        elif kind == "list":
            for item in element:
                if isinstance(item.tag, str):
                    self.check_value_element(name, task, what, item)
        elif kind == "map":
            for entry in element:
                if not isinstance(entry.tag, str):
                    continue
                if _local(entry) != "entry" or not entry.get("key"):
                    self.problem(
                        name,
                        f"{what}: every item of a camunda:map must be a camunda:entry with a key",
                        task,
                        line=entry.sourceline,
                    )
                else:
                    self.check_parameter_value(name, task, f"{what}, key {entry.get('key')!r}", entry)
        elif kind == "script":
            self.problem(
                name,
                f"{what}: scripts in input/output parameters are not supported; use a script task",
                task,
                line=element.sourceline,
            )
        else:
            self.problem(
                name,
                f"{what}: unsupported element {_describe_tag(element)}; a value is a text, camunda:list, "
                f"camunda:map or camunda:value",
                task,
                line=element.sourceline,
            )

    def check_text(self, name: str, task: etree._Element, what: str, text: str, element: etree._Element) -> None:
        """Every ``${...}`` in a text value must compile in the sandbox, as conditions do."""
        message = _embedded_expression_problem(what, text, task.get("id"))
        if message:
            self.problem(name, message, task, line=element.sourceline)

    def check_retry_cycle(self, name: str, task: etree._Element, what: str) -> None:
        element = extension_element(task, "failedJobRetryTimeCycle")
        if element is None:
            return
        try:
            parse_retry_time_cycle(element.text or "")
        except ValueError as err:
            self.problem(name, f"{what}: {err}", task, line=element.sourceline)

    # --- BPMN: SpiffWorkflow ----------------------------------------------------------------------------

    def parse_processes(self) -> list[ParsedProcess]:
        added: set[str] = set()
        for name, root in self.bpmn.items():
            if name in self.duplicate_files:
                continue
            try:
                quote_bare_iso_timers(root)
                unwrap_camunda_conditions(root)
                self.parser.add_bpmn_xml(root, name)
            except ValidationException as err:
                self.spiff_problem(err, name)
                continue
            except Exception as err:
                self.problem(name, f"cannot read the BPMN: {type(err).__name__}: {err}", line=root.sourceline)
                continue
            added.add(name)

        top_level = set(self.parser.top_level_processes)
        processes = []
        for key, (name, process) in self.executable.items():
            if name not in added:
                continue
            try:
                spec = self.parser.get_spec(key)
                subprocess_specs = self.parser.get_subprocess_specs(key, require_call_activity_specs=False)
            except ValidationException as err:
                self.spiff_problem(err, name)
                continue
            except Exception as err:
                self.problem(name, f"cannot parse the process: {type(err).__name__}: {err}", process)
                continue
            attrs = process_attributes(process)
            try:
                ttl = parse_history_time_to_live(attrs.history_time_to_live)
            except ValueError:
                ttl = None  # already reported by check_bpmn
            processes.append(
                ParsedProcess(
                    key=key,
                    name=attrs.name,
                    resource_name=name,
                    spec=spec,
                    subprocess_specs=subprocess_specs,
                    is_executable=True,
                    starter_groups=attrs.starter_groups,
                    starter_users=attrs.starter_users,
                    version_tag=attrs.version_tag,
                    history_time_to_live=ttl,
                    user_tasks=_task_specs(spec, subprocess_specs, top_level, PlusmaUserTask),
                    service_tasks=_task_specs(spec, subprocess_specs, top_level, PlusmaServiceTask),
                )
            )
        return processes

    def spiff_problem(self, err: ValidationException, fallback_file: str) -> None:
        file = err.file_name if err.file_name in self.files else fallback_file
        element_id = getattr(err, "id", "") or None
        if element_id and (file, element_id) in self.covered:
            return  # already reported, with a clearer message
        line = err.line_number if isinstance(err.line_number, int) else None
        element = self.ids_by_file.get(file, {}).get(element_id) if element_id else None
        if line is None and element is not None:
            line = element.sourceline
        message = str(err.args[0]) if err.args else str(err)
        self.problem(file, message, element_id=element_id, line=line)


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _describe_tag(element: etree._Element) -> str:
    qname = etree.QName(element)
    return f"{qname.localname} ({qname.namespace})" if qname.namespace else qname.localname


def _containers(process: etree._Element) -> Iterable[etree._Element]:
    """The process and every (nested) subprocess in it: each holds its own flow nodes and flows."""
    yield process
    for element in process.iter():
        if element is not process and _local(element) in _CONTAINERS and element.tag.startswith(f"{{{BPMN_NS}}}"):
            yield element


def _iter_many(root: etree._Element, locals_: tuple[str, ...]) -> Iterable[etree._Element]:
    return root.iter(*[_b(name) for name in locals_])


def _dmn_text(element: etree._Element | None) -> etree._Element | None:
    if element is None:
        return None
    return next((el for el in element if _local(el) == "text"), None)


def _text(element: etree._Element | None) -> str | None:
    return element.text if element is not None else None


def _line(preferred: etree._Element | None, fallback: etree._Element) -> int | None:
    return preferred.sourceline if preferred is not None else fallback.sourceline


def _task_specs(
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec | None],
    top_level: set[str],
    kind: type[_T],
) -> list[_T]:
    """Task specs of ``kind`` in ``spec`` and its embedded subprocesses; called processes are definitions of
    their own."""
    found: list[_T] = []
    seen: set[str] = set()

    def walk(current: BpmnProcessSpec) -> None:
        for task_spec in current.task_specs.values():
            if isinstance(task_spec, kind):
                found.append(task_spec)
            if (
                isinstance(task_spec, SubWorkflowTaskMixin)
                and task_spec.spec not in top_level
                and task_spec.spec not in seen
            ):
                seen.add(task_spec.spec)
                sub = subprocess_specs.get(task_spec.spec)
                if sub is not None:
                    walk(sub)

    walk(spec)
    return found


def _unique(problems: list[ModelProblem]) -> list[ModelProblem]:
    seen: set[tuple] = set()
    result = []
    for p in problems:
        key = (p.file, p.element_id, p.line, p.message)
        if key not in seen:
            seen.add(key)
            result.append(p)
    return result
