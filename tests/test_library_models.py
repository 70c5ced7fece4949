"""Checks over every shipped file of the process library: ``processes/*.bpmn``, ``processes/*.dmn``,
``forms/*.form`` and their English catalogues.

The tests are parametrized over whatever files exist, so a new process is checked the moment it lands; a
category with no files yet has nothing to check (pytest reports those as skipped).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from engine.config import Settings
from engine.errors import InvalidModel
from engine.modelling import bpmn_xsd_errors, dmn_xsd_errors, missing_diagram_elements
from engine.modelling.bpmn_files import BPMN_NS, CAMUNDA_NS, localname, process_lanes
from engine.parsing import parse_deployment
from engine.parsing.camunda import process_attributes
from engine.parsing.xml import parse_xml
from engine.process_engine import ProcessEngine
from engine.roles import ROLES
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
