"""Checks over every shipped file of the process library: ``processes/*.bpmn``, ``processes/*.dmn``,
``forms/*.form`` and their English catalogues.

The tests are parametrized over whatever files exist, so a new process is checked the moment it lands; a
category with no files yet has nothing to check (pytest reports those as skipped).
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from engine import deadlines
from engine.config import Settings
from engine.errors import InvalidModel, ScriptError
from engine.modelling import bpmn_xsd_errors, dmn_xsd_errors, missing_diagram_elements
from engine.modelling.bpmn_files import BPMN_NS, CAMUNDA_NS, FLOW_NODES, SUBPROCESSES, localname, process_lanes
from engine.parsing import parse_deployment
from engine.parsing.camunda import camunda_expression_body, process_attributes
from engine.parsing.xml import parse_xml
from engine.process_engine import ProcessEngine
from engine.roles import ROLES
from engine.scripting.sandbox import compile_expression
from engine.variables import parse_date
from web import cli

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
PROCESS_CATALOGUES = PROCESSES / "i18n" / "en"
FORM_CATALOGUES = FORMS / "i18n" / "en"

BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))
FORM_FILES = sorted(FORMS.glob("*.form"))

#: What a form-js component shows in words, and so what its English catalogue entry translates.
FORM_TEXT_FIELDS = ("label", "description", "text")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def by_name(paths: list[Path]) -> dict:
    return {"argvalues": paths, "ids": [p.name for p in paths]}


def bpmn_root(path: Path) -> etree._Element:
    return parse_xml(path.read_bytes(), rel(path))


def problems_message(path: Path, problems: list[str]) -> str:
    return f"{rel(path)}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)


def form_ids() -> dict[str, Path]:
    ids = {}
    for path in FORM_FILES:
        try:
            form_id = json.loads(path.read_bytes()).get("id")
        except (ValueError, AttributeError):
            continue
        if isinstance(form_id, str):
            ids[form_id] = path
    return ids


def executable_process_ids() -> set[str]:
    keys = set()
    for path in BPMN_FILES:
        for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process"):
            if process_attributes(process).is_executable:
                keys.add(process.get("id"))
    return keys


# ---------------------------------------------------------------------------------------------------------
# BPMN


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_bpmn_is_valid_for_the_bpmn_20_schema(path):
    errors = bpmn_xsd_errors(path.read_bytes(), rel(path))
    assert not errors, problems_message(path, errors)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_bpmn_diagram_draws_every_element(path):
    missing = missing_diagram_elements(path.read_bytes(), rel(path))
    assert not missing, (
        f"{rel(path)}: {len(missing)} element(s) without a BPMNShape/BPMNEdge: {', '.join(missing)} "
        f"(run `plusma layout {rel(path)}` after changing the model)"
    )


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_user_tasks_name_known_groups_and_a_shipped_form(path):
    known_forms = form_ids()
    problems = []
    for task in bpmn_root(path).iter(f"{{{BPMN_NS}}}userTask"):
        where = f"userTask {task.get('id')!r} (line {task.sourceline})"
        groups = [g.strip() for g in (task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").split(",") if g.strip()]
        if not groups:
            problems.append(f"{where}: no camunda:candidateGroups")
        for group in groups:
            if group not in ROLES:
                problems.append(f"{where}: camunda:candidateGroups names {group!r}, not one of {', '.join(ROLES)}")
        form_ref = (task.get(f"{{{CAMUNDA_NS}}}formRef") or "").strip()
        if not form_ref:
            problems.append(f"{where}: no camunda:formRef")
        elif form_ref not in known_forms:
            problems.append(f"{where}: camunda:formRef {form_ref!r} is the id of no form in forms/*.form")
    assert not problems, problems_message(path, problems)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_lanes_are_named(path):
    problems = [
        f"lane {lane.get('id')!r} (line {lane.sourceline}) has no name"
        for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process")
        for lane in process_lanes(process)
        if not (lane.get("name") or "").strip()
    ]
    assert not problems, problems_message(path, problems)


# ---------------------------------------------------------------------------------------------------------
# DMN


@pytest.mark.parametrize("path", **by_name(DMN_FILES))
def test_dmn_is_valid_for_the_dmn_13_schema(path):
    errors = dmn_xsd_errors(path.read_bytes(), rel(path))
    assert not errors, problems_message(path, errors)


@pytest.mark.parametrize("path", **by_name(DMN_FILES))
def test_dmn_diagram_has_a_shape_per_decision(path):
    root = parse_xml(path.read_bytes(), rel(path))
    decisions = [e.get("id") for e in root if isinstance(e.tag, str) and etree.QName(e).localname == "decision"]
    drawn = {
        e.get("dmnElementRef") for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "DMNShape"
    }
    missing = [d for d in decisions if d not in drawn]
    assert decisions, f"{rel(path)}: no decision"
    assert not missing, f"{rel(path)}: no dmndi:DMNShape for decision(s) {', '.join(missing)}"


# ---------------------------------------------------------------------------------------------------------
# Forms


@pytest.mark.parametrize("path", **by_name(FORM_FILES))
def test_form_file_is_named_by_its_id(path):
    schema = json.loads(path.read_bytes())
    assert schema.get("id") == path.stem, (
        f"{rel(path)}: the form's id is {schema.get('id')!r}; name the file after it ({schema.get('id')}.form)"
    )


# ---------------------------------------------------------------------------------------------------------
# User task deadlines and priorities: what the staff inbox shows (on time, due soon, overdue) and sorts by

TERMINS = "${termins}"
REACTION_TIME = "${due_in(reakcijas_laiks)}"
TASK_PRIORITY = "${uzdevuma_prioritate}"

#: Every user task with a camunda:dueDate, and what it says (processes/README.md, "Deadlines"): the tasks doing the
#: work the SLA deadline ``termins`` is for; escalations (reached when it has passed) and first-line support by the
#: reaction time; the registrations of processes the intake hands on by the intake's deadline.
TASK_DUE_DATES = {
    "pieteikumu_parvaldiba": {"Task_atbalsts": REACTION_TIME, "Task_eskalacija": REACTION_TIME, "Task_slegt": TERMINS},
    "pakalpojumu_pieprasijumi": {
        "Task_registret": TERMINS,
        "Task_izvertet": TERMINS,
        "Task_sniegt": TERMINS,
        "Task_partneris": TERMINS,
        "Task_eskalet": REACTION_TIME,
    },
    "incidentu_parvaldiba": {
        "Task_pienemt": TERMINS,
        "Task_diagnosticet": TERMINS,
        "Task_partneris": TERMINS,
        "Task_noverst": TERMINS,
        "Task_eskalet": REACTION_TIME,
    },
    "problemu_parvaldiba": {
        "Task_izmeklet": TERMINS,
        "Task_partneris": TERMINS,
        "Task_zinama_kluda": TERMINS,
        "Task_eskalet": REACTION_TIME,
    },
    "izmainu_parvaldiba": {
        "Task_registret": TERMINS,
        "Task_novertet": TERMINS,
        "Task_arkartas_lemums": TERMINS,
        "Task_eskalet": REACTION_TIME,
    },
    "sudzibas_un_ierosinajumi": {
        "Task_registret": TERMINS,
        "Task_izvertet": TERMINS,
        # Reached directly for a complaint about the institution, or by escalation when the deadline has passed.
        "Task_izvertet_iestade": "${termins if attiecas_uz == 'iestade' else due_in(reakcijas_laiks)}",
        "Task_darbibas": TERMINS,
        "Task_dokumentet": TERMINS,
    },
    "konfiguraciju_parvaldiba": {
        "Task_registret": TERMINS,
        "Task_statuss": TERMINS,
        "Task_apstiprinat": TERMINS,
        "Task_eskalacija": REACTION_TIME,
    },
    "kvdb_audits": {"Task_verificet": TERMINS},
    "nepartrauktibas_parvaldiba": {"Task_plani": TERMINS, "Task_eskalacija": REACTION_TIME},
    "nepartrauktibas_parskatisana": {"Task_parskatit": TERMINS, "Task_eskalacija": REACTION_TIME},
}

#: Camunda's user task priority (higher is more urgent, 50 the default) for the methodology's ``prioritate``.
CAMUNDA_TASK_PRIORITY = {1: 90, 2: 70, 3: 50, 4: 30}


def camunda_attribute(element: etree._Element, name: str) -> str:
    return (element.get(f"{{{CAMUNDA_NS}}}{name}") or "").strip()


def expression_names(text: str) -> set[str]:
    """The variables a Camunda attribute's ``${...}`` reads (the deadline functions and builtins are no variables);
    nothing for a literal."""
    body = camunda_expression_body(text)
    if body is None:
        return set()
    tree = ast.parse(body, mode="eval")
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return read - set(deadlines.FUNCTIONS) - set(dir(builtins))


def dmn_name(element: etree._Element) -> str:
    """Local name of a DMN element; "" for comments and processing instructions."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def decision_outputs() -> dict[str, set[str]]:
    """The output names of every shipped decision, by decision id."""
    outputs: dict[str, set[str]] = {}
    for path in DMN_FILES:
        for element in parse_xml(path.read_bytes(), rel(path)).iter():
            if dmn_name(element) == "decision":
                outputs[element.get("id")] = {o.get("name") for o in element.iter() if dmn_name(o) == "output"}
    return outputs


def required_form_fields() -> dict[str, set[str]]:
    """The keys of the required fields of every shipped form, by form id."""
    required = {}
    for form_id, path in form_ids().items():
        components = form_components(json.loads(path.read_bytes()).get("components", []))
        required[form_id] = {
            c["key"] for c in components if isinstance(c.get("key"), str) and (c.get("validate") or {}).get("required")
        }
    return required


def _script_sets(script: str) -> set[str]:
    names = [node for node in ast.walk(ast.parse(script)) if isinstance(node, ast.Name)]
    stored = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    return stored - {n.id for n in names if isinstance(n.ctx, ast.Del)}


def defined_on_every_path(
    process: etree._Element, decisions: dict[str, set[str]], forms: dict[str, set[str]]
) -> dict[str, frozenset[str]]:
    """For every flow node of ``process``: the variables some element has set on every path from a start event to
    the node, before the node runs (a boundary event: before its activity ran).

    A script task sets the names it assigns anywhere in its script and does not delete (the shipped scripts set
    defaults in ``try``/``except NameError``); a business rule task its decision's outputs; a user task its form's
    required fields (the staff UI refuses the form without them); any element its ``camunda:outputParameter``s. A
    start event brings nothing for certain: a message may come from outside with any payload.
    """
    nodes = {el.get("id"): el for el in process if isinstance(el.tag, str) and localname(el) in FLOW_NODES}
    nested = [node_id for node_id, el in nodes.items() if localname(el) in SUBPROCESSES]
    assert not nested, f"process {process.get('id')!r}: subprocesses {nested} are not analysed; extend this check"
    sources: dict[str, list[tuple[str, str]]] = {node_id: [] for node_id in nodes}
    for flow in process.findall(f"{{{BPMN_NS}}}sequenceFlow"):
        sources[flow.get("targetRef")].append(("after", flow.get("sourceRef")))
    for node_id, el in nodes.items():
        if localname(el) == "boundaryEvent":
            sources[node_id].append(("before", el.get("attachedToRef")))

    sets: dict[str, set[str]] = {}
    for node_id, el in nodes.items():
        kind = localname(el)
        found = {p.get("name") for p in el.iter(f"{{{CAMUNDA_NS}}}outputParameter")}
        if kind == "scriptTask":
            found |= _script_sets(el.findtext(f"{{{BPMN_NS}}}script") or "")
        elif kind == "businessRuleTask":
            found |= decisions.get(camunda_attribute(el, "decisionRef"), set())
        elif kind == "userTask":
            found |= forms.get(camunda_attribute(el, "formRef"), set())
        sets[node_id] = found
    everything = frozenset().union(*sets.values(), {"<anything>"})

    before = {node_id: everything for node_id in nodes}
    changed = True
    while changed:
        changed = False
        for node_id in nodes:
            incoming = [before[ref] if when == "before" else before[ref] | sets[ref] for when, ref in sources[node_id]]
            value = frozenset.intersection(*incoming) if incoming else frozenset()
            if value != before[node_id]:
                before[node_id], changed = value, True
    return before


def user_tasks(path: Path) -> list[tuple[etree._Element, etree._Element]]:
    """(process, user task) for every user task of a file."""
    return [
        (process, task)
        for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process")
        for task in process.iter(f"{{{BPMN_NS}}}userTask")
    ]


def _where(task: etree._Element) -> str:
    return f"userTask {task.get('id')!r} (line {task.sourceline})"


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_user_task_due_dates_and_priorities_are_valid(path):
    problems = []
    for _process, task in user_tasks(path):
        for attribute in ("dueDate", "priority"):
            text = camunda_attribute(task, attribute)
            if not text:
                continue
            what = f"{_where(task)}: camunda:{attribute} {text!r}"
            body = camunda_expression_body(text)
            if body is not None:
                try:
                    compile_expression(body, task.get("id"))
                except ScriptError as error:
                    problems.append(f"{what} does not compile: {error}")
            elif "${" in text or "#{" in text:
                problems.append(f"{what}: write one whole expression, ${{...}}, or a literal")
            elif attribute == "dueDate":
                try:
                    parse_date(text)
                except ValueError:
                    problems.append(f"{what} is not an ISO 8601 date-time")
            elif not re.fullmatch(r"[+-]?\d+", text):
                problems.append(f"{what} is not a whole number")
    assert not problems, problems_message(path, problems)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_user_task_due_dates_and_priorities_read_only_what_every_path_sets(path):
    # A ${...} naming a variable that is missing fails the step that creates the task.
    decisions, forms = decision_outputs(), required_form_fields()
    problems = []
    for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process"):
        defined = defined_on_every_path(process, decisions, forms)
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            for attribute in ("dueDate", "priority"):
                missing = sorted(expression_names(camunda_attribute(task, attribute)) - defined[task.get("id")])
                if missing:
                    problems.append(
                        f"{_where(task)}: camunda:{attribute} reads {', '.join(missing)}, which some path into the "
                        "task does not set"
                    )
    assert not problems, problems_message(path, problems)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_the_listed_user_tasks_and_only_they_are_due_at_their_deadlines(path):
    problems = []
    for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process"):
        listed = TASK_DUE_DATES.get(process.get("id"), {})
        actual = {
            task.get("id"): camunda_attribute(task, "dueDate")
            for task in process.iter(f"{{{BPMN_NS}}}userTask")
            if camunda_attribute(task, "dueDate")
        }
        for task_id in sorted(set(listed) | set(actual)):
            if listed.get(task_id) != actual.get(task_id):
                problems.append(
                    f"process {process.get('id')!r}, userTask {task_id!r}: camunda:dueDate is "
                    f"{actual.get(task_id)!r}, the list says {listed.get(task_id)!r}"
                )
    assert not problems, problems_message(path, problems)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_a_user_task_is_due_when_its_interrupting_timer_takes_it_away(path):
    root = bpmn_root(path)
    tasks = {task.get("id"): task for task in root.iter(f"{{{BPMN_NS}}}userTask")}
    problems = []
    for event in root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        task = tasks.get(event.get("attachedToRef") or "")
        time_date = event.findtext(f"{{{BPMN_NS}}}timerEventDefinition/{{{BPMN_NS}}}timeDate")
        if task is None or time_date is None or event.get("cancelActivity") == "false":
            continue
        if camunda_attribute(task, "dueDate") != time_date.strip():
            problems.append(
                f"{_where(task)}: camunda:dueDate is {camunda_attribute(task, 'dueDate')!r}, but timer "
                f"{event.get('id')!r} takes the task away at {time_date.strip()!r}"
            )
    assert not problems, problems_message(path, problems)


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_every_user_task_after_the_priority_decision_carries_the_decided_priority(path):
    decisions, forms = decision_outputs(), required_form_fields()
    problems = []
    for process in bpmn_root(path).findall(f"{{{BPMN_NS}}}process"):
        defined = defined_on_every_path(process, decisions, forms)
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            priority = camunda_attribute(task, "priority")
            decided = "uzdevuma_prioritate" in defined[task.get("id")]
            if decided and priority != TASK_PRIORITY:
                problems.append(f"{_where(task)}: camunda:priority is {priority!r}, not {TASK_PRIORITY!r}")
            elif not decided and priority:
                problems.append(
                    f"{_where(task)}: camunda:priority {priority!r} before the priority is decided on every path"
                )
    assert not problems, problems_message(path, problems)


def test_the_priority_decision_gives_each_priority_its_camunda_task_priority():
    path = PROCESSES / "prioritate.dmn"
    root = parse_xml(path.read_bytes(), rel(path))
    (table,) = [e for e in root.iter() if dmn_name(e) == "decisionTable"]
    columns = [o.get("name") for o in table if dmn_name(o) == "output"]
    assert "uzdevuma_prioritate" in columns, f"{rel(path)}: no output uzdevuma_prioritate"
    rules = [r for r in table if dmn_name(r) == "rule"]
    assert len(rules) == 9, f"{rel(path)}: {len(rules)} rules, not one per impact × urgency"
    for rule in rules:
        cells = [c.findtext("{*}text") for c in rule if dmn_name(c) == "outputEntry"]
        values = dict(zip(columns, cells, strict=True))
        assert CAMUNDA_TASK_PRIORITY[int(values["prioritate"])] == int(values["uzdevuma_prioritate"]), (
            f"{rel(path)}: rule {rule.get('id')!r} gives prioritate {values['prioritate']} and "
            f"uzdevuma_prioritate {values['uzdevuma_prioritate']}"
        )


# ---------------------------------------------------------------------------------------------------------
# The whole library deploys


def library_files() -> dict[str, bytes]:
    return cli.collect_files([p for p in (PROCESSES, FORMS) if p.is_dir()])


def test_the_library_passes_the_deployment_checks_in_one_deployment():
    files = library_files()
    if not files:
        pytest.skip("processes/ and forms/ hold nothing to deploy yet")
    try:
        parsed = parse_deployment(files)
    except InvalidModel as error:
        pytest.fail("the library does not deploy:\n  " + "\n  ".join(map(str, error.problems)))
    assert {p.key for p in parsed.processes} == executable_process_ids()
    assert {f.form_id for f in parsed.forms} == set(form_ids())


@pytest.fixture
def sqlite_settings(sqlite_template, tmp_path) -> Settings:
    path = tmp_path / "library.sqlite"
    shutil.copy(sqlite_template, path)
    return Settings(database_url=f"sqlite:///{path}", database_url_given=True, processes_dir=PROCESSES, forms_dir=FORMS)


def test_the_engine_deploys_every_process_of_the_library(sqlite_settings):
    if not library_files():
        pytest.skip("processes/ and forms/ hold nothing to deploy yet")
    engine = ProcessEngine(sqlite_settings)
    try:
        cli.deploy_paths(engine, [p for p in (PROCESSES, FORMS) if p.is_dir()], "library", "test")
        deployed = {d["key"] for d in engine.definitions.list(latest_only=True)}
        versions = {d["key"]: d["version"] for d in engine.definitions.list(latest_only=True)}
        again = cli.deploy_paths(engine, [p for p in (PROCESSES, FORMS) if p.is_dir()], "library", "test")
    finally:
        engine.close()
    assert deployed == executable_process_ids()
    assert set(versions.values()) <= {1}
    assert again == [], "deploying the unchanged library again makes no new versions"


def test_prepare_on_a_fresh_embedded_database_deploys_every_process(tmp_path, monkeypatch):
    monkeypatch.delenv("PLUSMA_DATABASE_URL", raising=False)
    monkeypatch.setenv("PLUSMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLUSMA_PROCESSES_DIR", str(PROCESSES))
    monkeypatch.setenv("PLUSMA_FORMS_DIR", str(FORMS))
    settings = Settings.from_env()
    out = io.StringIO()
    cli.prepare(settings, out=out)
    engine = ProcessEngine(settings)
    try:
        deployed = {d["key"] for d in engine.definitions.list(latest_only=True)}
    finally:
        engine.close()
    expected = executable_process_ids()
    assert deployed == expected
    for key in sorted(expected):
        assert f"Deployed {key} version 1" in out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# English catalogues


def load_catalogue(path: Path) -> dict:
    assert path.is_file(), f"{rel(path)} is missing"
    try:
        data = json.loads(path.read_bytes())
    except ValueError as error:
        pytest.fail(f"{rel(path)}: not JSON: {error}")
    assert isinstance(data, dict), f"{rel(path)}: the catalogue must be a JSON object"
    return data


def _outside_extensions(element: etree._Element) -> bool:
    return not any(localname(a) == "extensionElements" for a in element.iterancestors())


def named_elements(root: etree._Element) -> list[tuple[str | None, etree._Element]]:
    """(the process an element belongs to, the element) for every BPMN element with a name.

    An element inside a process belongs to it; a participant to the process it references; a message flow
    (or other collaboration element) to the process its source or target lies in, else to none in particular
    (None: any process entry of the file may translate it). Names inside extension elements (Camunda's
    input and output parameters) are variables, not texts.
    """
    owner_of: dict[str, str] = {}
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        for element in process.iter():
            if isinstance(element.tag, str) and element.get("id"):
                owner_of[element.get("id")] = process.get("id")
    for participant in root.iter(f"{{{BPMN_NS}}}participant"):
        if participant.get("processRef") in owner_of.values():
            owner_of[participant.get("id")] = participant.get("processRef")
    named: list[tuple[str | None, etree._Element]] = []
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        for element in process.iterdescendants():
            if localname(element) and (element.get("name") or "").strip() and _outside_extensions(element):
                named.append((process.get("id"), element))
    for collaboration in root.findall(f"{{{BPMN_NS}}}collaboration"):
        for element in collaboration.iterdescendants():
            if not (localname(element) and (element.get("name") or "").strip() and _outside_extensions(element)):
                continue
            owner = owner_of.get(element.get("id")) or owner_of.get(element.get("sourceRef") or "")
            named.append((owner or owner_of.get(element.get("targetRef") or ""), element))
    return named


def _describe(element: etree._Element) -> str:
    return f"bpmn:{localname(element)} {element.get('id')!r} named {element.get('name')!r}"


def process_catalogue_problems(root: etree._Element, catalogue: dict) -> list[str]:
    """What a process file's English catalogue lacks (or names that the file does not have)."""
    processes = {p.get("id"): p for p in root.findall(f"{{{BPMN_NS}}}process")}
    named = named_elements(root)
    problems: list[str] = []
    entries = catalogue.get("processes")
    if not isinstance(entries, dict):
        return ['needs {"processes": {"<process id>": {"name": "...", "elements": {"<element id>": "..."}}}}']
    wanted = {
        pid
        for pid, process in processes.items()
        if process_attributes(process).is_executable or process.get("name") or any(o == pid for o, _ in named)
    }
    elements_of: dict[str, dict] = {}
    for pid in sorted(wanted):
        entry = entries.get(pid)
        if not isinstance(entry, dict):
            problems.append(f"processes.{pid}: missing (process {pid!r})")
            continue
        name = processes[pid].get("name")
        if name and not (isinstance(entry.get("name"), str) and entry["name"].strip()):
            problems.append(f"processes.{pid}.name: no English name for the process named {name!r}")
        elements = entry.get("elements", {})
        if not isinstance(elements, dict):
            problems.append(f"processes.{pid}.elements: must be an object of element id -> English name")
            elements = {}
        elements_of[pid] = elements
    for pid in sorted(set(entries) - set(processes)):
        problems.append(f"processes.{pid}: the file has no process {pid!r}")

    known_ids: dict[str | None, set[str]] = {}
    for owner, element in named:
        element_id = element.get("id")
        known_ids.setdefault(owner, set()).add(element_id)
        candidates = [owner] if owner else sorted(elements_of)
        found = [elements_of[pid][element_id] for pid in candidates if element_id in elements_of.get(pid, {})]
        where = f"processes.{owner}.elements.{element_id}" if owner else f"elements.{element_id} (of any process)"
        if not found:
            problems.append(f"{where}: missing ({_describe(element)})")
        elif not all(isinstance(text, str) and text.strip() for text in found):
            problems.append(f"{where}: the English name must be a non-empty string")
    for pid, elements in sorted(elements_of.items()):
        for element_id in sorted(elements):
            if element_id not in known_ids.get(pid, set()) | known_ids.get(None, set()):
                problems.append(
                    f"processes.{pid}.elements.{element_id}: process {pid!r} has no element of that id with a name"
                )
    return problems


@pytest.mark.parametrize("path", **by_name(BPMN_FILES))
def test_process_file_has_an_english_catalogue_covering_every_name(path):
    catalogue_path = PROCESS_CATALOGUES / f"{path.stem}.json"
    problems = process_catalogue_problems(bpmn_root(path), load_catalogue(catalogue_path))
    assert not problems, problems_message(catalogue_path, problems) + f"\n(the catalogue of {rel(path)})"


def form_components(components: list) -> list[dict]:
    """Every component of a form-js schema, those inside groups and dynamic lists too."""
    out = []
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            out.append(component)
            out += form_components(component.get("components", []))
    return out


def _value_key(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def form_catalogue_problems(schema: dict, catalogue: dict) -> list[str]:
    """What a form's English catalogue lacks (or names that the form does not have)."""
    problems: list[str] = []
    if not (isinstance(catalogue.get("title"), str) and catalogue["title"].strip()):
        problems.append("title: no English title of the form")
    entries = catalogue.get("components", {})
    if not isinstance(entries, dict):
        return [*problems, "components: must be an object of component key or id -> texts"]

    used: set[str] = set()
    for component in form_components(schema.get("components", [])):
        names = [n for n in (component.get("key"), component.get("id")) if isinstance(n, str) and n]
        used.update(names)
        texts = {
            f: component[f] for f in FORM_TEXT_FIELDS if isinstance(component.get(f), str) and component[f].strip()
        }
        raw_values = component.get("values") if isinstance(component.get("values"), list) else []
        values = [v for v in raw_values if isinstance(v, dict) and "value" in v]
        if not texts and not values:
            continue
        name = names[0] if names else "?"
        what = f"{component.get('type')} {name!r}"
        entry = next((entries[n] for n in names if n in entries), None)
        if not isinstance(entry, dict):
            needed = ", ".join([*texts, *(["values"] if values else [])])
            problems.append(f"components.{name}: missing (the {what} has {needed})")
            continue
        for field, latvian in texts.items():
            if not (isinstance(entry.get(field), str) and entry[field].strip()):
                problems.append(f"components.{name}.{field}: no English for {latvian!r} ({what})")
        if values:
            english = entry.get("values")
            if not isinstance(english, dict):
                problems.append(f"components.{name}.values: missing (the {what} offers {len(values)} values)")
                continue
            for value in values:
                key = _value_key(value["value"])
                if not (isinstance(english.get(key), str) and english[key].strip()):
                    problems.append(f"components.{name}.values.{key}: no English for {value.get('label')!r} ({what})")
            offered = {_value_key(v["value"]) for v in values}
            for key in sorted(set(english) - offered):
                problems.append(f"components.{name}.values.{key}: the {what} offers no such value")
    for name in sorted(set(entries) - used):
        problems.append(f"components.{name}: the form has no component with that key or id")
    return problems


@pytest.mark.parametrize("path", **by_name(FORM_FILES))
def test_form_has_an_english_catalogue_covering_every_text(path):
    catalogue_path = FORM_CATALOGUES / f"{path.stem}.json"
    problems = form_catalogue_problems(json.loads(path.read_bytes()), load_catalogue(catalogue_path))
    assert not problems, problems_message(catalogue_path, problems) + f"\n(the catalogue of {rel(path)})"


# ---------------------------------------------------------------------------------------------------------
# The checks themselves, on small examples


SMALL_PROCESS = f"""<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" id="D" targetNamespace="t">
  <bpmn:collaboration id="C">
    <bpmn:participant id="Pool" name="Iestāde" processRef="p" />
    <bpmn:participant id="Outside" name="Pieteicējs" />
    <bpmn:messageFlow id="Msg" name="pieteikums" sourceRef="Outside" targetRef="start" />
  </bpmn:collaboration>
  <bpmn:message id="M" name="pieteikums" />
  <bpmn:process id="p" name="Process" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="Lane" name="kac" /></bpmn:laneSet>
    <bpmn:startEvent id="start" name="Sākums" />
    <bpmn:serviceTask id="mail" name="Sūtīt">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="to">x</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="flow" name="jā" sourceRef="start" targetRef="mail" />
    <bpmn:sequenceFlow id="unnamed" sourceRef="start" targetRef="mail" />
  </bpmn:process>
</bpmn:definitions>"""


def test_the_process_catalogue_check_names_each_gap():
    root = etree.fromstring(SMALL_PROCESS.encode())
    complete = {
        "processes": {
            "p": {
                "name": "Process",
                "elements": {
                    "Pool": "Institution",
                    "Outside": "Requester",
                    "Msg": "request",
                    "Lane": "Front office",
                    "start": "Start",
                    "mail": "Send",
                    "flow": "yes",
                },
            }
        }
    }
    assert process_catalogue_problems(root, complete) == []
    broken = json.loads(json.dumps(complete))
    elements = broken["processes"]["p"]["elements"]
    del elements["Lane"], elements["Msg"]
    elements["flow"] = ""
    elements["gone"] = "Old task"
    del broken["processes"]["p"]["name"]
    broken["processes"]["q"] = {"name": "Q", "elements": {}}
    assert process_catalogue_problems(root, broken) == [
        "processes.p.name: no English name for the process named 'Process'",
        "processes.q: the file has no process 'q'",
        "processes.p.elements.Lane: missing (bpmn:lane 'Lane' named 'kac')",
        "processes.p.elements.flow: the English name must be a non-empty string",
        "processes.p.elements.Msg: missing (bpmn:messageFlow 'Msg' named 'pieteikums')",
        "processes.p.elements.gone: process 'p' has no element of that id with a name",
    ]
    assert process_catalogue_problems(root, {"p": {}}) == [
        'needs {"processes": {"<process id>": {"name": "...", "elements": {"<element id>": "..."}}}}'
    ]


def test_the_form_catalogue_check_names_each_gap():
    schema = {
        "id": "f",
        "components": [
            {"type": "text", "id": "Text_1", "text": "## Virsraksts"},
            {"type": "textfield", "id": "Field_1", "key": "temats", "label": "Temats", "description": "Īsi"},
            {
                "type": "group",
                "id": "Group_1",
                "label": "Grupa",
                "components": [
                    {
                        "type": "radio",
                        "id": "Field_2",
                        "key": "ietekme",
                        "label": "Ietekme",
                        "values": [{"label": "Augsta", "value": "augsta"}, {"label": "Zema", "value": "zema"}],
                    },
                    {"type": "checkbox", "id": "Field_3", "key": "ok", "label": "Jā", "values": []},
                ],
            },
            {"type": "textfield", "id": "Field_4", "key": "hidden"},
        ],
    }
    complete = {
        "title": "Form",
        "components": {
            "Text_1": {"text": "## Title"},
            "temats": {"label": "Subject", "description": "Briefly"},
            "Group_1": {"label": "Group"},
            "Field_2": {"label": "Impact", "values": {"augsta": "High", "zema": "Low"}},
            "ok": {"label": "Yes"},
        },
    }
    assert form_catalogue_problems(schema, complete) == []
    broken = json.loads(json.dumps(complete))
    del broken["title"], broken["components"]["temats"]["description"], broken["components"]["ok"]
    broken["components"]["Field_2"]["values"] = {"augsta": "High", "videja": "Medium"}
    broken["components"]["old"] = {"label": "Old"}
    assert form_catalogue_problems(schema, broken) == [
        "title: no English title of the form",
        "components.temats.description: no English for 'Īsi' (textfield 'temats')",
        "components.ietekme.values.zema: no English for 'Zema' (radio 'ietekme')",
        "components.ietekme.values.videja: the radio 'ietekme' offers no such value",
        "components.ok: missing (the checkbox 'ok' has label)",
        "components.old: the form has no component with that key or id",
    ]


SMALL_FLOW = f"""<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" id="D" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="defaults" scriptFormat="python">
      <bpmn:script>try:
    a
except NameError:
    a = 1
scratch = 2
del scratch</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="split" default="skip" />
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="d" />
    <bpmn:exclusiveGateway id="join" />
    <bpmn:userTask id="work" camunda:formRef="f" />
    <bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition /></bpmn:boundaryEvent>
    <bpmn:serviceTask id="escalate">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:outputParameter name="e">1</camunda:outputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="defaults" />
    <bpmn:sequenceFlow id="f2" sourceRef="defaults" targetRef="split" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="decide" />
    <bpmn:sequenceFlow id="skip" sourceRef="split" targetRef="join" />
    <bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="work" />
    <bpmn:sequenceFlow id="f6" sourceRef="work" targetRef="end" />
    <bpmn:sequenceFlow id="f7" sourceRef="late" targetRef="escalate" />
    <bpmn:sequenceFlow id="f8" sourceRef="escalate" targetRef="join" />
  </bpmn:process>
</bpmn:definitions>"""


def test_the_path_analysis_keeps_only_what_every_path_into_an_element_sets():
    (process,) = etree.fromstring(SMALL_FLOW.encode()).findall(f"{{{BPMN_NS}}}process")
    before = defined_on_every_path(process, decisions={"d": {"b"}}, forms={"f": {"c"}})
    # The decision's b is set on one branch only; the form's c only once the task is done; scratch is deleted.
    assert before["start"] == frozenset()
    assert before["split"] == before["decide"] == before["join"] == before["work"] == {"a"}
    # A boundary event leaves before its task was completed; the loop back through it keeps what all paths set.
    assert before["late"] == before["escalate"] == {"a"}
    assert before["end"] == {"a", "c"}
    # When the other branch sets b too, b is set on every path to the task.
    both = SMALL_FLOW.replace('<bpmn:exclusiveGateway id="split" default="skip" />', "").replace(
        '<bpmn:startEvent id="start" />',
        '<bpmn:startEvent id="start" /><bpmn:scriptTask id="split"><bpmn:script>b = 2</bpmn:script></bpmn:scriptTask>',
    )
    (process,) = etree.fromstring(both.encode()).findall(f"{{{BPMN_NS}}}process")
    before = defined_on_every_path(process, decisions={"d": {"b"}}, forms={"f": {"c"}})
    assert before["work"] == {"a", "b"}
    # The escalation's output parameter reaches the task only on the loop: not on every path.
    assert "e" not in before["work"] and before["late"] == {"a", "b"}


def test_expression_names_are_the_variables_an_attribute_reads():
    text = "${termins if attiecas_uz == 'iestade' else due_in(reakcijas_laiks)}"
    assert expression_names(text) == {"termins", "attiecas_uz", "reakcijas_laiks"}
    assert expression_names("${max(uzdevuma_prioritate, 50)}") == {"uzdevuma_prioritate"}
    assert expression_names("2026-12-01T09:00:00+02:00") == set()
    assert expression_names("70") == set()
