"""Deployment parsing and validation: engine/parsing."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.errors import InvalidModel, ModelProblem, ScriptError
from engine.parsing.camunda import (
    SERIALIZER_CONFIG,
    PlusmaParser,
    PlusmaUserTask,
    parse_history_time_to_live,
    split_camunda_list,
)
from engine.parsing.deployment import ParsedDeployment, parse_deployment
from engine.parsing.timers import check_timer_expression, parse_iso_timer
from engine.parsing.xml import MAX_FILE_BYTES, hardened_parser, parse_xml

FIXTURES = Path(__file__).parent / "fixtures" / "models"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


# ---------------------------------------------------------------------------------------------------------
# helpers


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def good_files() -> dict[str, bytes]:
    return {name: fixture(name) for name in ("leave_request.bpmn", "dispatch.bpmn", "review.form", "risk.dmn")}


def line_of(text: str | bytes, needle: str) -> int:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def bpmn_doc(body: str, process_attrs: str = 'id="p" isExecutable="true"', extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}"\n'
        '    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" '
        'targetNamespace="http://bpmn.io/schema/bpmn">\n'
        f"  <bpmn:process {process_attrs}>\n{body}\n  </bpmn:process>\n{extra}</bpmn:definitions>\n"
    )


def chain(*nodes: str) -> str:
    """Start event, the given nodes in order, end event, and the sequence flows linking them."""
    ids = ["start"] + [re.search(r'id="([^"]+)"', node).group(1) for node in nodes] + ["end"]
    parts = ['    <bpmn:startEvent id="start"/>', *nodes, '    <bpmn:endEvent id="end"/>']
    parts += [f'    <bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>' for a, b in pairwise(ids)]
    return "\n".join(parts)


def problems_of(files: dict[str, bytes | str], deployed_form_ids: tuple[str, ...] = ()) -> list[ModelProblem]:
    encoded = {
        name: content.encode("utf-8") if isinstance(content, str) else content for name, content in files.items()
    }
    with pytest.raises(InvalidModel) as info:
        parse_deployment(encoded, deployed_form_ids)
    return info.value.problems


def only_problem(problems: list[ModelProblem], element_id: str | None = None, file: str | None = None) -> ModelProblem:
    matching = [
        p for p in problems if (element_id is None or p.element_id == element_id) and (file is None or p.file == file)
    ]
    assert len(matching) == 1, [str(p) for p in problems]
    return matching[0]


def deploy_one(doc: str, name: str = "m.bpmn", **extra: bytes | str) -> list[ModelProblem]:
    files: dict[str, bytes | str] = {name: doc}
    files.update({key.replace("__", "."): value for key, value in extra.items()})
    return problems_of(files)


def parses(files: dict[str, bytes | str], deployed_form_ids: tuple[str, ...] = ()) -> ParsedDeployment:
    encoded = {
        name: content.encode("utf-8") if isinstance(content, str) else content for name, content in files.items()
    }
    return parse_deployment(encoded, deployed_form_ids)


# ---------------------------------------------------------------------------------------------------------
# hardened XML


def test_parse_xml_returns_root_and_keeps_line_numbers() -> None:
    root = parse_xml(b'<?xml version="1.0"?>\n<!-- modeler -->\n<a>\n  <b id="x"/>\n</a>\n', "a.bpmn")
    assert root.tag == "a"
    assert root.find("b").sourceline == 4


def test_malformed_xml_reports_the_line() -> None:
    content = b"<a>\n  <b>\n  </c>\n</a>\n"
    with pytest.raises(InvalidModel) as info:
        parse_xml(content, "broken.bpmn")
    problem = only_problem(info.value.problems)
    assert problem.file == "broken.bpmn"
    assert problem.line == 3
    assert problem.message.startswith("malformed XML:")
    assert "mismatch" in problem.message.lower()


def test_empty_and_oversized_files_are_refused() -> None:
    with pytest.raises(InvalidModel, match="empty"):
        parse_xml(b"  \n", "e.bpmn")
    big = b"<a>" + b"x" * (6 * 1024 * 1024) + b"</a>"
    with pytest.raises(InvalidModel) as info:
        parse_xml(big, "big.bpmn")
    assert "too large" in info.value.problems[0].message
    assert info.value.problems[0].file == "big.bpmn"


@pytest.fixture()
def fifo(tmp_path: Path):
    """A named pipe: opening it for reading blocks until a writer comes, so any read attempt shows."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    yield path


def _parse_in_thread(target, fifo_path: Path):  # noqa: ANN001, ANN202
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        # The parser opened the pipe: release it so the thread ends, then fail.
        fd = os.open(fifo_path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"TOPSECRET")
        os.close(fd)
        thread.join(5)
        pytest.fail("the parser tried to read the external entity / DTD")
    # Nobody holds the pipe open for reading.
    with pytest.raises(OSError):
        os.open(fifo_path, os.O_WRONLY | os.O_NONBLOCK)
    return outcome


@pytest.mark.parametrize(
    "template",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://{path}">]>\n<x>&e;</x>',
        '<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "{path}">\n<x/>',
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "{path}"> %p;]>\n<x/>',
    ],
)
def test_xxe_and_external_dtd_refused_without_reading(fifo: Path, template: str) -> None:
    content = template.format(path=fifo).encode()
    outcome = _parse_in_thread(lambda: parse_xml(content, "xxe.bpmn"), fifo)
    error = outcome.get("error")
    assert isinstance(error, InvalidModel)
    problem = only_problem(error.problems)
    assert "DOCTYPE" in problem.message
    assert problem.line == line_of(content, "<!DOCTYPE")


def test_network_dtd_is_not_fetched() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    content = (
        f'<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/x.dtd" [<!ENTITY e SYSTEM '
        f'"http://127.0.0.1:{port}/e">]>\n<x>&e;</x>'
    ).encode()
    try:
        with pytest.raises(InvalidModel, match="DOCTYPE"):
            parse_xml(content, "net.bpmn")
        # Even lxml called directly with the hardened parser (the second line of defence) stays offline.
        root = etree.fromstring(content, hardened_parser())
        assert root.text is None
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()


def test_hardened_parser_does_not_substitute_entities(fifo: Path) -> None:
    content = f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{fifo}">]><x>&e;</x>'.encode()
    outcome = _parse_in_thread(lambda: etree.fromstring(content, hardened_parser()), fifo)
    assert etree.tostring(outcome["value"]) == b"<x>&e;</x>"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz a="&lol9;">&lol9;</lolz>
"""


def test_billion_laughs_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(InvalidModel) as info:
        parse_xml(BILLION_LAUGHS, "lol.bpmn")
    assert time.monotonic() - started < 1
    problem = only_problem(info.value.problems)
    assert "DOCTYPE" in problem.message and problem.line == 2


def test_doctype_in_utf16_document_refused() -> None:
    content = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY e "y">]>\n<x>&e;</x>'.encode("utf-16")
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parse_xml(content, "u16.bpmn")


def test_plusma_parser_string_and_file_adders_use_the_hardened_parser(tmp_path: Path) -> None:
    parser = PlusmaParser()
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parser.add_bpmn_str(BILLION_LAUGHS, "lol.bpmn")
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parser.add_dmn_str(BILLION_LAUGHS.decode(), "lol.dmn")
    evil = tmp_path / "evil.bpmn"
    evil.write_bytes(BILLION_LAUGHS)
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parser.add_bpmn_file(str(evil))
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parser.add_dmn_file(str(evil))
    # A tree parsed elsewhere with a DOCTYPE is refused too.
    foreign = etree.fromstring(b'<!DOCTYPE x><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')
    with pytest.raises(InvalidModel, match="DOCTYPE"):
        parser.add_bpmn_xml(foreign, "foreign.bpmn")

    parser.add_bpmn_file(str(FIXTURES / "leave_request.bpmn"))
    parser.add_dmn_file(str(FIXTURES / "risk.dmn"))
    assert parser.get_spec("leave_request").task_specs["Task_review"].candidate_groups == ["kac", "l2"]
    assert "risk" in parser.dmn_parsers


# ---------------------------------------------------------------------------------------------------------
# Camunda attribute helpers


def test_split_camunda_list() -> None:
    assert split_camunda_list("kac, l2") == ["kac", "l2"]
    assert split_camunda_list(" a ,, b ,") == ["a", "b"]
    assert split_camunda_list("${groupsFor(a, b)}, x") == ["${groupsFor(a, b)}", "x"]
    assert split_camunda_list(None) == []
    assert split_camunda_list("") == []


def test_parse_history_time_to_live() -> None:
    assert parse_history_time_to_live("180") == 180
    assert parse_history_time_to_live("P30D") == 30
    assert parse_history_time_to_live(None) is None
    with pytest.raises(ValueError, match="number of days"):
        parse_history_time_to_live("half a year")


# ---------------------------------------------------------------------------------------------------------
# timers


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("PT3S", "timeDuration"),
        ("P2DT4H", "timeDuration"),
        (" P1W ", "timeDuration"),
        ("2027-01-01T09:00:00+02:00", "timeDate"),
        ("2027-01-01", "timeDate"),
        ("R/P3M", "timeCycle"),
        ("R3/PT10M", "timeCycle"),
        ("R3/2027-01-01T09:00:00Z/PT1H", "timeCycle"),
        ("R2/PT1H/2027-01-01T09:00:00Z", "timeCycle"),
        ('"PT%dS" % delay_seconds', "timeDuration"),
        ("reminder_after", "timeDuration"),
        ("'PT5M'", "timeDuration"),
        ("deadline", "timeDate"),
        ("${deadline}", "timeDate"),
        ("P${dienas}D", "timeDuration"),
        ('${due_in("3 darba dienas")}', "timeDate"),
    ],
)
def test_timer_values_accepted(text: str, kind: str) -> None:
    check_timer_expression(text, kind, "Timer_1")


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("PT3X", "timeDuration", "not a valid ISO 8601 duration"),
        ("P1DT", "timeDuration", "not a valid ISO 8601 duration"),
        ("P1H", "timeDuration", "not a valid ISO 8601 duration"),
        ("2027-01-01T09:00:00Z", "timeDuration", "use timeDate"),
        ("2027-13-01T00:00:00", "timeDate", "not a valid ISO 8601 date-time"),
        ("PT3S", "timeDate", "is a duration"),
        ("R3/PT1H/PT2H", "timeCycle", "exactly one duration"),
        ("R3/PT1X", "timeCycle", "not a valid ISO 8601 duration"),
        ("0 0/5 * * * ?", "timeCycle", "cron"),
        ("${delay && soon}", "timeDuration", "write it in Python: delay and soon"),
        ("${}", "timeDuration", "empty"),
        ("P${dienas", "timeDuration", "not closed"),
        ("", "timeDuration", "empty"),
        ("'P3Q'", "timeDuration", "not a valid ISO 8601 duration"),
        ("5", "timeDuration", "constant"),
        ("three seconds", "timeDuration", "neither an ISO 8601 value"),
    ],
)
def test_timer_values_refused(text: str, kind: str, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        check_timer_expression(text, kind, "Timer_1")
    assert info.value.element_id == "Timer_1"
    assert fragment in info.value.reason


def test_camunda_timer_expressions_become_python() -> None:
    from engine.parsing.timers import camunda_timer_to_python

    assert camunda_timer_to_python("${termins}") == "(termins)"
    assert camunda_timer_to_python("P${dienas}D") == "'P' + str(dienas) + 'D'"
    assert eval(camunda_timer_to_python("PT${n}M"), {"n": 5}) == "PT5M"  # noqa: S307 - a test of our own text


def test_timer_expression_refused_by_the_sandbox_compiler() -> None:
    with pytest.raises(ScriptError) as info:
        check_timer_expression("__import__('os').getcwd()", "timeDuration", "Timer_1")
    assert info.value.element_id == "Timer_1"


def test_parse_iso_timer() -> None:
    duration = parse_iso_timer("PT3S", "timeDuration")
    assert (duration.kind, duration.duration, duration.date) == ("timeDuration", {"seconds": 3}, None)
    assert duration.duration_from(datetime(2027, 1, 1, tzinfo=UTC)) == timedelta(seconds=3)

    date = parse_iso_timer("2027-01-01T09:00:00+02:00", "timeDate")
    assert date.date == datetime(2027, 1, 1, 7, 0, tzinfo=UTC)

    cycle = parse_iso_timer("R3/PT10M", "timeCycle")
    assert (cycle.repetitions, cycle.duration, cycle.date, cycle.end) == (3, {"minutes": 10}, None, None)
    assert parse_iso_timer("R/P3M", "timeCycle").repetitions == -1

    started = parse_iso_timer("R3/2027-01-01T09:00:00Z/PT1H", "timeCycle")
    assert started.date == datetime(2027, 1, 1, 9, tzinfo=UTC) and started.duration == {"hours": 1}
    ending = parse_iso_timer("R2/PT1H/2027-01-01T09:00:00Z", "timeCycle")
    assert ending.end == datetime(2027, 1, 1, 9, tzinfo=UTC) and ending.date is None

    # Months have calendar lengths, counted from the start.
    month = parse_iso_timer("P1M", "timeDuration")
    assert month.duration_from(datetime(2027, 2, 1, tzinfo=UTC)) == timedelta(days=28)
    assert month.duration == {"months": 1}  # not consumed by SpiffWorkflow's helper

    with pytest.raises(ValueError, match="unknown timer kind"):
        parse_iso_timer("PT1S", "timeSomething")


# ---------------------------------------------------------------------------------------------------------
# a valid deployment


def test_valid_deployment() -> None:
    parsed = parse_deployment(good_files())

    assert sorted(p.key for p in parsed.processes) == ["dispatch", "leave_request"]  # "notes" is not executable
    leave = next(p for p in parsed.processes if p.key == "leave_request")
    assert leave.name == "Leave request"
    assert leave.resource_name == "leave_request.bpmn"
    assert leave.is_executable
    assert leave.starter_groups == ["staff", "hr"]
    assert leave.starter_users == ["anna"]
    assert leave.version_tag == "1.2"
    assert leave.history_time_to_live == 180
    assert leave.spec.name == "leave_request"
    assert "Sub_archive" in leave.subprocess_specs

    tasks = {t.bpmn_id: t for t in leave.user_tasks}
    assert set(tasks) == {"Task_review", "Task_approve", "Task_file"}  # Task_file is in the embedded subprocess
    review = tasks["Task_review"]
    assert isinstance(review, PlusmaUserTask)
    assert review.candidate_groups == ["kac", "l2"]
    assert review.candidate_users == ["jonas", "marta"]
    assert review.assignee == "anna"
    assert review.form_ref == "review-form"
    assert review.form_ref_binding == "latest"
    assert review.due_date == "${dueDate}"
    assert review.priority == "60"
    assert review.lane == "Clerk"
    approve = tasks["Task_approve"]
    assert approve.candidate_groups == [] and approve.lane == "Manager"
    assert approve.form_key == "camunda-forms:deployment:review.form"

    gateway = leave.spec.task_specs["Gateway_amount"]
    assert [c.args[0] for c, _ in gateway.cond_task_specs if c is not None] == ["amount > 100 and not urgent"]
    # SpiffWorkflow evaluates timer values as Python: the bare ISO value reaches it as a string literal.
    assert leave.spec.task_specs["Timer_review"].event_definition.expression == '"PT3S"'
    assert "round(amount" in leave.spec.task_specs["Task_compute"].script

    dispatch = next(p for p in parsed.processes if p.key == "dispatch")
    assert set(dispatch.subprocess_specs) >= {"leave_request", "Sub_archive"}
    assert dispatch.user_tasks == []  # the called process is its own definition
    assert dispatch.history_time_to_live is None and dispatch.starter_groups == []

    assert [(f.form_id, f.resource_name) for f in parsed.forms] == [("review-form", "review.form")]
    assert parsed.forms[0].schema["components"][0]["key"] == "comment"
    assert [(d.key, d.name, d.resource_name) for d in parsed.decisions] == [("risk", "Risk class", "risk.dmn")]


def test_spec_survives_serializer_round_trip() -> None:
    leave = next(p for p in parse_deployment(good_files()).processes if p.key == "leave_request")
    registry = BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG)
    dct = registry.convert(leave.spec)
    json.dumps(dct)  # storable as JSON
    restored = registry.restore(json.loads(json.dumps(dct)))
    review = restored.task_specs["Task_review"]
    assert isinstance(review, PlusmaUserTask)
    assert review.candidate_groups == ["kac", "l2"]
    assert review.candidate_users == ["jonas", "marta"]
    assert (review.assignee, review.form_ref, review.form_ref_binding) == ("anna", "review-form", "latest")
    assert (review.due_date, review.priority, review.lane) == ("${dueDate}", "60", "Clerk")
    assert restored.task_specs["Task_approve"].form.key == "camunda-forms:deployment:review.form"


def test_workflow_with_plusma_user_tasks_serializes() -> None:
    leave = next(p for p in parse_deployment(good_files()).processes if p.key == "leave_request")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SERIALIZER_CONFIG))
    workflow = BpmnWorkflow(leave.spec, leave.subprocess_specs)
    restored = serializer.deserialize_json(serializer.serialize_json(workflow))
    file_task = restored.subprocess_specs["Sub_archive"].task_specs["Task_file"]
    assert isinstance(file_task, PlusmaUserTask) and file_task.candidate_groups == ["archive"]


def test_missing_is_executable_means_executable_as_in_camunda() -> None:
    doc = bpmn_doc(chain('    <bpmn:task id="t"/>'), process_attrs='id="implicit"')
    assert [p.key for p in parses({"m.bpmn": doc}).processes] == ["implicit"]


def test_form_ref_may_name_an_already_deployed_form() -> None:
    doc = bpmn_doc(chain('    <bpmn:userTask id="u" camunda:formRef="old-form"/>'))
    parsed = parses({"m.bpmn": doc}, deployed_form_ids=("old-form",))
    assert parsed.processes[0].user_tasks[0].form_ref == "old-form"


def test_external_form_keys_are_not_checked() -> None:
    doc = bpmn_doc(
        chain(
            '    <bpmn:userTask id="u1" camunda:formKey="embedded:app:forms/a.html"/>',
            '    <bpmn:userTask id="u2" camunda:formKey="app:forms/b.html"/>',
            '    <bpmn:userTask id="u3" camunda:formKey="camunda-forms:app:forms/c.form"/>',
        )
    )
    assert len(parses({"m.bpmn": doc}).processes[0].user_tasks) == 3


# ---------------------------------------------------------------------------------------------------------
# refused deployments: files


def test_unsupported_file_type() -> None:
    problem = only_problem(problems_of({"notes.txt": b"hello"}))
    assert problem.file == "notes.txt" and "unsupported file type" in problem.message


def test_oversized_file_in_deployment() -> None:
    big = b"<a>" + b"x" * (6 * 1024 * 1024) + b"</a>"
    assert len(big) > MAX_FILE_BYTES
    problem = only_problem(problems_of({"big.bpmn": big, "big.form": big}), file="big.bpmn")
    assert "too large" in problem.message
    assert "too large" in only_problem(problems_of({"big.form": big})).message


def test_malformed_and_doctype_files_in_deployment() -> None:
    broken = bpmn_doc(chain('    <bpmn:task id="t">')).encode()
    problems = problems_of({"broken.bpmn": broken, "lol.dmn": BILLION_LAUGHS})
    assert only_problem(problems, file="broken.bpmn").message.startswith("malformed XML")
    assert only_problem(problems, file="broken.bpmn").line is not None
    lol = only_problem(problems, file="lol.dmn")
    assert "DOCTYPE" in lol.message and lol.line == 2


def test_wrong_root_element() -> None:
    problem = only_problem(problems_of({"x.bpmn": fixture("risk.dmn")}))
    assert "not a BPMN 2.0 file" in problem.message and problem.line == 2
    problem = only_problem(problems_of({"x.dmn": fixture("dispatch.bpmn")}))
    assert "not a DMN file" in problem.message


def test_no_executable_process() -> None:
    doc = bpmn_doc(chain('    <bpmn:task id="t"/>'), process_attrs='id="p" isExecutable="false"')
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert problem.file == "m.bpmn" and "no executable process" in problem.message


def test_duplicate_process_id_across_files() -> None:
    doc = bpmn_doc(chain('    <bpmn:task id="t"/>'))
    problem = only_problem(problems_of({"a.bpmn": doc, "b.bpmn": doc}))
    assert problem.file == "b.bpmn" and problem.element_id == "p"
    assert "also defined in a.bpmn" in problem.message
    assert problem.line == line_of(doc, "<bpmn:process")


def test_duplicate_element_id() -> None:
    doc = bpmn_doc(chain('    <bpmn:task id="t"/>', '    <bpmn:task id="t2"/>').replace('id="t2"', 'id="t"', 1))
    problems = problems_of({"m.bpmn": doc})
    dup = [p for p in problems if "duplicate id 't'" in p.message]
    assert len(dup) == 1 and dup[0].line == doc.count("\n", 0, doc.rindex('<bpmn:task id="t"')) + 1


def test_invalid_history_time_to_live() -> None:
    doc = bpmn_doc(
        chain('    <bpmn:task id="t"/>'), process_attrs='id="p" isExecutable="true" camunda:historyTimeToLive="soon"'
    )
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert problem.element_id == "p" and "historyTimeToLive" in problem.message


# ---------------------------------------------------------------------------------------------------------
# refused deployments: flows and conditions


def test_sequence_flow_to_missing_element() -> None:
    body = chain('    <bpmn:task id="t"/>') + '\n    <bpmn:sequenceFlow id="Flow_bad" sourceRef="t" targetRef="ghost"/>'
    doc = bpmn_doc(body)
    problems = problems_of({"m.bpmn": doc})
    problem = only_problem(problems)  # SpiffWorkflow's own, less clear message about "t" is not repeated
    assert (problem.file, problem.element_id) == ("m.bpmn", "Flow_bad")
    assert problem.line == line_of(doc, 'id="Flow_bad"')
    assert "targetRef 'ghost' does not exist" in problem.message


def test_gateway_without_outgoing_flow() -> None:
    body = (
        '    <bpmn:startEvent id="start"/>\n    <bpmn:exclusiveGateway id="Gateway_dead"/>\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Gateway_dead"/>'
    )
    doc = bpmn_doc(body)
    problem = only_problem(problems_of({"m.bpmn": doc}), "Gateway_dead")
    assert "exclusiveGateway has no outgoing sequence flow" in problem.message
    assert problem.line == line_of(doc, 'id="Gateway_dead"')


def gateway_doc(condition: str, extra_attrs: str = "") -> str:
    body = f"""    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="gw" default="Flow_default"/>
    <bpmn:endEvent id="e1"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="Flow_cond" sourceRef="gw" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{extra_attrs}>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_default" sourceRef="gw" targetRef="e2"/>"""
    return bpmn_doc(body)


def test_python_condition_accepted() -> None:
    parsed = parses({"m.bpmn": gateway_doc("amount &gt;= 100 or approved")})
    gateway = parsed.processes[0].spec.task_specs["gw"]
    assert [c.args[0] for c, _ in gateway.cond_task_specs if c is not None] == ["amount >= 100 or approved"]


def test_condition_written_as_camunda_modeler_writes_it_is_accepted() -> None:
    parsed = parses({"m.bpmn": gateway_doc("${amount &gt; 100}")})
    gateway = parsed.processes[0].spec.task_specs["gw"]
    assert [c.args[0] for c, _ in gateway.cond_task_specs if c is not None] == ["amount > 100"]


def test_juel_condition_gets_a_python_hint() -> None:
    doc = gateway_doc("${amount gt 100}")
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert (problem.file, problem.element_id, problem.line) == ("m.bpmn", "Flow_cond", line_of(doc, "<bpmn:conditionE"))
    assert "write amount > 100" in problem.message


def test_juel_operators_are_translated_in_the_hint() -> None:
    problem = only_problem(problems_of({"m.bpmn": gateway_doc("${approved &amp;&amp; !rejected}")}))
    assert "write approved and not rejected" in problem.message


@pytest.mark.parametrize("condition", ["amount &gt;", "__import__('os').system('id')", ""])
def test_bad_python_condition(condition: str) -> None:
    doc = gateway_doc(condition)
    problem = only_problem(problems_of({"m.bpmn": doc}), "Flow_cond")
    assert problem.line == line_of(doc, "<bpmn:conditionE")
    assert problem.message.startswith("condition")


def test_condition_in_another_language() -> None:
    problem = only_problem(problems_of({"m.bpmn": gateway_doc("amount > 1", ' language="javascript"')}))
    assert problem.element_id == "Flow_cond" and "language 'javascript' is not supported" in problem.message


def test_condition_on_a_flow_leaving_a_task() -> None:
    body = """    <bpmn:startEvent id="start"/>
    <bpmn:task id="t"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t"/>
    <bpmn:sequenceFlow id="Flow_c" sourceRef="t" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">ok</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
    problem = only_problem(problems_of({"m.bpmn": bpmn_doc(body)}))
    assert problem.element_id == "Flow_c" and "put an exclusive gateway after 't'" in problem.message


def test_spiffworkflow_validation_error_carries_element_and_line() -> None:
    # Two outgoing flows, neither default nor conditional on one: SpiffWorkflow refuses it.
    body = """    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="gw"/>
    <bpmn:endEvent id="e1"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="gw" targetRef="e1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">ok</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_b" sourceRef="gw" targetRef="e2"/>"""
    doc = bpmn_doc(body)
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert (problem.file, problem.element_id) == ("m.bpmn", "Flow_b")
    assert problem.line == line_of(doc, 'id="Flow_b"')
    assert "without condition" in problem.message


def test_boundary_event_without_definition() -> None:
    doc = bpmn_doc(chain('    <bpmn:task id="t"/>') + '\n    <bpmn:boundaryEvent id="Boundary_1" attachedToRef="t"/>')
    problem = only_problem(problems_of({"m.bpmn": doc}))  # not SpiffWorkflow's NotImplementedError repr
    assert (problem.element_id, problem.line) == ("Boundary_1", line_of(doc, 'id="Boundary_1"'))
    assert "boundary event has no event definition" in problem.message


def test_missing_start_event_reported_by_spiffworkflow() -> None:
    doc = bpmn_doc('    <bpmn:task id="t"/>')
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert problem.element_id == "p" and "No start event" in problem.message
    assert problem.line == line_of(doc, "<bpmn:process")


# ---------------------------------------------------------------------------------------------------------
# refused deployments: scripts and timers


def script_doc(script: str, attrs: str = 'scriptFormat="python"') -> str:
    return bpmn_doc(
        chain(
            f'    <bpmn:scriptTask id="Script_1" {attrs}>\n'
            f"      <bpmn:script>{script}</bpmn:script>\n    </bpmn:scriptTask>"
        )
    )


@pytest.mark.parametrize("script", ["x = (", "import os", "y = ().__class__"])
def test_bad_script(script: str) -> None:
    doc = script_doc(script)
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert (problem.element_id, problem.line) == ("Script_1", line_of(doc, "<bpmn:script>"))
    assert problem.message.startswith("script: ")


def test_script_format_and_missing_script() -> None:
    problem = only_problem(problems_of({"m.bpmn": script_doc("x = 1", 'scriptFormat="groovy"')}))
    assert problem.element_id == "Script_1" and "script format 'groovy' is not supported" in problem.message
    doc = bpmn_doc(chain('    <bpmn:scriptTask id="Script_1" scriptFormat="python"/>'))
    problem = only_problem(problems_of({"m.bpmn": doc}))  # SpiffWorkflow's "No Script Provided" is not repeated
    assert problem.element_id == "Script_1" and problem.message == "script task has no script"


def test_script_without_format_and_multiline() -> None:
    parsed = parses({"m.bpmn": script_doc("total = 0\nfor item in items:\n    total = total + item", "")})
    assert "for item in items" in parsed.processes[0].spec.task_specs["Script_1"].script


def timer_doc(value: str, kind: str = "timeDuration") -> str:
    value_element = f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}>' if kind else ""
    return bpmn_doc(
        chain(
            f'    <bpmn:intermediateCatchEvent id="Wait_1">\n'
            f'      <bpmn:timerEventDefinition id="TimerDef_1">{value_element}'
            f"</bpmn:timerEventDefinition>\n"
            f"    </bpmn:intermediateCatchEvent>"
        )
    )


def test_bad_timer_value() -> None:
    doc = timer_doc("PT3X")
    problem = only_problem(problems_of({"m.bpmn": doc}))
    assert (problem.file, problem.element_id, problem.line) == ("m.bpmn", "Wait_1", line_of(doc, "<bpmn:timeDuration"))
    assert "'PT3X' is not a valid ISO 8601 duration" in problem.message


def test_timer_without_value() -> None:
    problem = only_problem(problems_of({"m.bpmn": timer_doc("", kind="")}))
    assert problem.element_id == "Wait_1" and "no timeDate, timeDuration or timeCycle" in problem.message


@pytest.mark.parametrize(
    ("value", "kind"), [("R3/PT10M", "timeCycle"), ("2027-01-01T09:00:00Z", "timeDate"), ("'PT1H'", "timeDuration")]
)
def test_good_timer_values_deploy(value: str, kind: str) -> None:
    parsed = parses({"m.bpmn": timer_doc(value, kind)})
    expression = parsed.processes[0].spec.task_specs["Wait_1"].event_definition.expression
    # a bare ISO value is handed to SpiffWorkflow quoted; a Python expression as written
    assert expression in (value, json.dumps(value))
    assert (expression == json.dumps(value)) == bool(re.match(r"^(P|R\d*/|\d{4}-)", value))


# ---------------------------------------------------------------------------------------------------------
# refused deployments: references


def test_business_rule_task_references() -> None:
    doc = bpmn_doc(
        chain(
            '    <bpmn:businessRuleTask id="Rule_unknown" camunda:decisionRef="nope"/>',
            '    <bpmn:businessRuleTask id="Rule_none"/>',
        )
    )
    problems = problems_of({"m.bpmn": doc, "risk.dmn": fixture("risk.dmn")})
    unknown = only_problem(problems, "Rule_unknown")
    assert "camunda:decisionRef 'nope' names no decision" in unknown.message and "risk" in unknown.message
    assert unknown.line == line_of(doc, 'id="Rule_unknown"')
    missing = only_problem(problems, "Rule_none")  # no bare KeyError from SpiffWorkflow besides
    assert "no camunda:decisionRef" in missing.message
    assert len(problems) == 2


def test_call_activity_references() -> None:
    doc = bpmn_doc(
        chain('    <bpmn:callActivity id="Call_1" calledElement="elsewhere"/>', '    <bpmn:callActivity id="Call_2"/>')
    )
    problems = problems_of({"m.bpmn": doc})
    assert "calledElement 'elsewhere' names no executable process" in only_problem(problems, "Call_1").message
    assert only_problem(problems, "Call_2").message == "call activity has no calledElement"
    assert len(problems) == 2


def test_call_activity_to_non_executable_process() -> None:
    problems = problems_of(
        {
            "m.bpmn": bpmn_doc(chain('    <bpmn:callActivity id="Call_1" calledElement="notes"/>')),
            "dispatch.bpmn": fixture("dispatch.bpmn"),
            "risk.dmn": fixture("risk.dmn"),
            "leave_request.bpmn": fixture("leave_request.bpmn"),
            "review.form": fixture("review.form"),
        }
    )
    assert "'notes' names no executable process" in only_problem(problems, "Call_1").message


def test_form_references() -> None:
    doc = bpmn_doc(
        chain(
            '    <bpmn:userTask id="U_ref" camunda:formRef="missing-form"/>',
            '    <bpmn:userTask id="U_dep" camunda:formRef="old-form" camunda:formRefBinding="deployment"/>',
            '    <bpmn:userTask id="U_key" camunda:formKey="camunda-forms:deployment:missing.form"/>',
            '    <bpmn:userTask id="U_notform" camunda:formKey="camunda-forms:deployment:other.bpmn"/>',
            '    <bpmn:userTask id="U_bare" camunda:formKey="no-such-form"/>',
            '    <bpmn:userTask id="U_both" camunda:formKey="review-form" camunda:formRef="review-form"/>',
            '    <bpmn:userTask id="U_version" camunda:formRef="review-form" camunda:formRefBinding="version"/>',
            '    <bpmn:userTask id="U_ok1" camunda:formRef="review-form"/>',
            '    <bpmn:userTask id="U_ok2" camunda:formKey="camunda-forms:deployment:review.form"/>',
            '    <bpmn:userTask id="U_ok3" camunda:formKey="review-form"/>',
            '    <bpmn:userTask id="U_ok4" camunda:formRef="old-form"/>',
        )
    )
    other = bpmn_doc(chain('    <bpmn:task id="t"/>'), process_attrs='id="other" isExecutable="true"')
    problems = problems_of(
        {"m.bpmn": doc, "review.form": fixture("review.form"), "other.bpmn": other}, deployed_form_ids=("old-form",)
    )
    assert "camunda:formRef 'missing-form' names no form" in only_problem(problems, "U_ref").message
    assert "names no form in this deployment" in only_problem(problems, "U_dep").message
    assert "'missing.form', which is not in this deployment" in only_problem(problems, "U_key").message
    assert "'other.bpmn', which is not a form" in only_problem(problems, "U_notform").message
    assert "'no-such-form' names no form" in only_problem(problems, "U_bare").message
    assert "only one of camunda:formKey and camunda:formRef" in only_problem(problems, "U_both").message
    assert "needs camunda:formRefVersion" in only_problem(problems, "U_version").message
    assert only_problem(problems, "U_ref").line == line_of(doc, 'id="U_ref"')
    assert not [p for p in problems if p.element_id and p.element_id.startswith("U_ok")]
    assert len(problems) == 7


# ---------------------------------------------------------------------------------------------------------
# refused deployments: forms


def test_invalid_form_json_reports_line_and_column() -> None:
    problem = only_problem(problems_of({"bad.form": b'{\n  "id": "x",\n  "components": [,]\n}'}))
    assert problem.file == "bad.form" and problem.line == 3
    assert problem.message.startswith("invalid JSON:") and "line 3, column" in problem.message


def test_form_schema_checks() -> None:
    problems = problems_of(
        {
            "noid.form": json.dumps({"components": []}),
            "nocomp.json": json.dumps({"id": "f", "components": {}}),
            "list.form": "[]",
            "a.form": json.dumps({"id": "dup", "components": []}),
            "b.form": json.dumps({"id": "dup", "components": []}),
        }
    )
    assert "form has no id" in only_problem(problems, file="noid.form").message
    assert '"components" must be a list' in only_problem(problems, file="nocomp.json").message
    assert "not a Camunda form" in only_problem(problems, file="list.form").message
    assert "form id 'dup' is also used by a.form" in only_problem(problems, file="b.form").message
    assert len(problems) == 4


def test_forms_the_staff_ui_cannot_render_are_refused_naming_the_component() -> None:
    def form(*components: dict) -> str:
        return json.dumps({"id": "f", "components": list(components)})

    problems = problems_of(
        {
            "taglist.form": form({"type": "taglist", "id": "Field_tags", "key": "tags", "label": "Tags"}),
            "regex.form": form(
                {"type": "textfield", "id": "Field_code", "key": "code", "label": "Code", "validate": {"pattern": "(["}}
            ),
            "feel.form": form(
                {"type": "textfield", "id": "Field_a", "key": "a", "label": "A", "conditional": {"hide": "=a ="}}
            ),
            "options.form": form({"type": "select", "id": "Field_s", "key": "s", "label": "S"}),
        }
    )
    for file, component in (
        ("taglist.form", "Field_tags"),
        ("regex.form", "Field_code"),
        ("feel.form", "Field_a"),
        ("options.form", "Field_s"),
    ):
        problem = only_problem(problems, file=file)
        assert problem.element_id == component, (file, str(problem))
    assert "taglist" in only_problem(problems, file="taglist.form").message
    assert len(problems) == 4


# ---------------------------------------------------------------------------------------------------------
# refused deployments: DMN


def dmn_doc(rules: str, input_expression: str = "amount", hit_policy: str = "UNIQUE", decisions: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="D" name="D" namespace="http://camunda.org">
  <decision id="check" name="Check">
    <decisionTable id="Table_1" hitPolicy="{hit_policy}">
      <input id="Input_1" label="Amount">
        <inputExpression id="InputExpression_1" typeRef="number">
          <text>{input_expression}</text>
        </inputExpression>
      </input>
      <output id="Output_1" label="Result" name="result" typeRef="string"/>
{rules}
    </decisionTable>
  </decision>
{decisions}</definitions>
"""


def rule(rule_id: str, entry: str, output: str = '"ok"') -> str:
    return (
        f'      <rule id="{rule_id}">\n'
        f'        <inputEntry id="In_{rule_id}"><text>{entry}</text></inputEntry>\n'
        f'        <outputEntry id="Out_{rule_id}"><text>{output}</text></outputEntry>\n'
        f"      </rule>"
    )


def test_good_dmn_entries_deploy() -> None:
    rules = "\n".join(
        [
            rule("r1", "&gt; 5"),
            rule("r2", '"gold"'),
            rule("r3", "-"),
            rule("r4", "1 &lt; ? &lt; 3"),
            rule("r5", "? in (1, 2)"),
            rule("r6", "", "amount * 2"),
        ]
    )
    parsed = parses({"d.dmn": dmn_doc(rules)})
    assert [(d.key, d.name) for d in parsed.decisions] == [("check", "Check")]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("[1..10]", "FEEL range; in Python write 1 <= ? <= 10"),
        ("]1..10[", "FEEL range; in Python write 1 < ? < 10"),
        ('not("gold")', 'FEEL negation; in Python write ? != "gold"'),
        ('not("a", "b")', 'FEEL negation; in Python write ? not in ("a", "b")'),
        ('"gold","silver"', 'FEEL list of alternatives; in Python write ? in ("gold","silver")'),
        ("&gt;&gt;&gt; 5", "neither a Python value"),
        ("${amount}", "Camunda (JUEL)"),
    ],
)
def test_bad_dmn_input_entries(entry: str, fragment: str) -> None:
    doc = dmn_doc(rule("r1", entry))
    problem = only_problem(problems_of({"d.dmn": doc}))
    assert (problem.file, problem.element_id, problem.line) == ("d.dmn", "In_r1", line_of(doc, 'id="In_r1"'))
    assert fragment in problem.message


def test_bad_dmn_output_entry_and_input_expression() -> None:
    doc = dmn_doc(rule("r1", "&gt; 5", '"unterminated'), input_expression="${amount}")
    problems = problems_of({"d.dmn": doc})
    output = only_problem(problems, "Out_r1")  # SpiffWorkflow's own "Malformed Output Expression" not repeated
    assert output.message.startswith("output entry") and output.line == line_of(doc, 'id="Out_r1"')
    expression = only_problem(problems, "Input_1")
    assert "Camunda (JUEL)" in expression.message and expression.line == line_of(doc, "<text>${amount}")
    assert len(problems) == 2


def test_unsupported_dmn_shapes() -> None:
    problem = only_problem(problems_of({"d.dmn": dmn_doc(rule("r1", "1"), hit_policy="PRIORITY")}))
    assert problem.element_id == "Table_1" and "hit policy PRIORITY is not supported" in problem.message

    second = '  <decision id="second"><decisionTable id="T2"/></decision>\n'
    problem = only_problem(problems_of({"d.dmn": dmn_doc(rule("r1", "1"), decisions=second)}))
    assert problem.element_id == "second" and "2 decisions in one file" in problem.message

    problems = problems_of({"a.dmn": dmn_doc(rule("r1", "1")), "b.dmn": dmn_doc(rule("r1", "1"))})
    problem = only_problem(problems)
    assert problem.file == "b.dmn" and "decision id 'check' is also used by a.dmn" in problem.message


def test_business_rule_task_naming_a_broken_decision_is_not_reported_twice() -> None:
    doc = bpmn_doc(chain('    <bpmn:businessRuleTask id="Rule_1" camunda:decisionRef="check"/>'))
    problems = problems_of({"m.bpmn": doc, "d.dmn": dmn_doc(rule("r1", "[1..2]"))})
    assert [p.element_id for p in problems] == ["In_r1"]


# ---------------------------------------------------------------------------------------------------------
# all problems at once


def test_all_problems_are_collected() -> None:
    files: dict[str, bytes | str] = {
        "cond.bpmn": gateway_doc("${ok &amp;&amp; fine}").replace('id="p"', 'id="p1"'),
        "script.bpmn": script_doc("x = (").replace('id="p"', 'id="p2"'),
        "timer.bpmn": timer_doc("soon please").replace('id="p"', 'id="p3"'),
        "bad.form": "{",
        "d.dmn": dmn_doc(rule("r1", "[1..2]")),
        "readme.md": "# hi",
    }
    problems = problems_of(files)
    assert sorted(p.file for p in problems) == sorted(files)  # one problem per file, none lost


def test_camunda_expression_body_is_only_for_one_whole_expression() -> None:
    from engine.parsing.camunda import camunda_expression_body

    assert camunda_expression_body("${amount > 100}") == "amount > 100"
    assert camunda_expression_body(" ${ {'a': 1}['a'] } ") == "{'a': 1}['a']"
    assert camunda_expression_body("${iela} ${numurs}") is None
    assert camunda_expression_body("Nr. ${numurs}") is None
    assert camunda_expression_body("plain") is None


def test_user_task_attributes_are_checked_at_deployment() -> None:
    tasks = [
        '    <bpmn:userTask id="BadDue" camunda:dueDate="${termins +}"/>',
        '    <bpmn:userTask id="BadPriority" camunda:priority="high"/>',
        '    <bpmn:userTask id="BadLiteralDue" camunda:dueDate="next Friday"/>',
        '    <bpmn:userTask id="BadGroups" camunda:candidateGroups="${__import__(\'os\')}"/>',
        '    <bpmn:userTask id="Good" camunda:dueDate="${due_in(\'3 darba dienas\')}" camunda:priority="${prio}"'
        ' camunda:followUpDate="2026-12-01T09:00:00+02:00" camunda:candidateGroups="kac,l2"'
        ' camunda:assignee="${starter}"/>',
    ]
    problems = deploy_one(bpmn_doc(chain(*tasks)))
    assert "camunda:dueDate" in only_problem(problems, "BadDue").message
    assert "camunda:priority 'high' is not a whole number" in only_problem(problems, "BadPriority").message
    assert "'next Friday' is not a date-time" in only_problem(problems, "BadLiteralDue").message
    assert "camunda:candidateGroups" in only_problem(problems, "BadGroups").message
    assert not [p for p in problems if p.element_id == "Good"], [str(p) for p in problems]
    assert len(problems) == 4
