"""Service and send tasks: PlusmaServiceTask (external tasks, connectors), deployment checks, serialization,
and that a running workflow waits at them."""

from __future__ import annotations

import json

import pytest
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.util.task import TaskState

from engine import runtime
from engine.parsing import KNOWN_CONNECTORS, parse_retry_time_cycle
from engine.parsing.camunda import (
    PLUSMA_SERVICE_TASK_ATTRIBUTES,
    Expression,
    PlusmaParser,
    PlusmaServiceTask,
    expression_parts,
)
from engine.serialization import STATE_FORMAT, Serializer
from tests.test_parsing import bpmn_doc, chain, line_of, only_problem, parses, problems_of

# ---------------------------------------------------------------------------------------------------------
# models

EXTERNAL_TASK = """    <bpmn:serviceTask id="Check" name="Check the register" camunda:type="external"
        camunda:topic="register-check" camunda:taskPriority="${priority}" camunda:asyncBefore="true">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="code">${applicant.code}</camunda:inputParameter>
          <camunda:inputParameter name="source">VID</camunda:inputParameter>
          <camunda:outputParameter name="registered">${found}</camunda:outputParameter>
        </camunda:inputOutput>
        <camunda:failedJobRetryTimeCycle>R3/PT10M</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:serviceTask>"""

MAIL_TASK = """    <bpmn:sendTask id="Notify" name="Notify the requester">
      <bpmn:extensionElements>
        <camunda:connector>
          <camunda:connectorId>mail-send</camunda:connectorId>
          <camunda:inputOutput>
            <camunda:inputParameter name="to">${requesterEmail}</camunda:inputParameter>
            <camunda:inputParameter name="cc">
              <camunda:list>
                <camunda:value>kac@example.lv</camunda:value>
                <camunda:value>${manager}</camunda:value>
                <camunda:list><camunda:value>nested</camunda:value></camunda:list>
              </camunda:list>
            </camunda:inputParameter>
            <camunda:inputParameter name="subject">Pieteikums ${businessKey} / ${count + 1}</camunda:inputParameter>
            <camunda:inputParameter name="template">
              <camunda:map>
                <camunda:entry key="name">request-received</camunda:entry>
                <camunda:entry key="values">
                  <camunda:map><camunda:entry key="who">${ {"a": "}"}["a"] }</camunda:entry></camunda:map>
                </camunda:entry>
                <camunda:entry key="tags"><camunda:list><camunda:value>a</camunda:value></camunda:list></camunda:entry>
              </camunda:map>
            </camunda:inputParameter>
            <camunda:inputParameter name="fromAlias"/>
            <camunda:outputParameter name="mailSent">${messageId}</camunda:outputParameter>
          </camunda:inputOutput>
        </camunda:connector>
        <camunda:failedJobRetryTimeCycle>R5/PT5M</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
    </bpmn:sendTask>"""


def service_doc(*tasks: str) -> str:
    return bpmn_doc(chain(*tasks))


def mail_task(parameters: str, task_id: str = "Mail", connector_id: str = "mail-send", attrs: str = "") -> str:
    return f"""    <bpmn:serviceTask id="{task_id}"{attrs}>
      <bpmn:extensionElements>
        <camunda:connector>
          <camunda:connectorId>{connector_id}</camunda:connectorId>
          <camunda:inputOutput>
{parameters}
          </camunda:inputOutput>
        </camunda:connector>
      </bpmn:extensionElements>
    </bpmn:serviceTask>"""


MAIL_OK = """            <camunda:inputParameter name="to">${email}</camunda:inputParameter>
            <camunda:inputParameter name="subject">Hello</camunda:inputParameter>"""


def external_task(io: str = "", task_id: str = "Ext", attrs: str = 'camunda:topic="work"', extra: str = "") -> str:
    inner = f"<camunda:inputOutput>\n{io}\n</camunda:inputOutput>" if io else ""
    return f"""    <bpmn:serviceTask id="{task_id}" camunda:type="external" {attrs}>
      <bpmn:extensionElements>{inner}{extra}</bpmn:extensionElements>
    </bpmn:serviceTask>"""


def spec_of(doc: str):
    [process] = parses({"m.bpmn": doc}).processes
    return process


# ---------------------------------------------------------------------------------------------------------
# parsing


def test_external_task_parses() -> None:
    process = spec_of(service_doc(EXTERNAL_TASK))
    task = process.spec.task_specs["Check"]
    assert isinstance(task, PlusmaServiceTask)
    assert process.service_tasks == [task]
    assert (task.element_type, task.implementation, task.topic) == ("serviceTask", "external", "register-check")
    assert (task.task_priority, task.connector_id, task.async_before) == ("${priority}", None, True)
    assert task.input_parameters == [["code", {"text": "${applicant.code}"}], ["source", {"text": "VID"}]]
    assert task.output_parameters == [["registered", {"text": "${found}"}]]
    assert task.retry_time_cycle == "R3/PT10M"
    assert task.bpmn_name == "Check the register"


def test_connector_parses_every_parameter_shape() -> None:
    process = spec_of(service_doc(MAIL_TASK))
    task = process.spec.task_specs["Notify"]
    assert isinstance(task, PlusmaServiceTask)
    assert (task.element_type, task.implementation, task.connector_id) == ("sendTask", "connector", "mail-send")
    assert (task.topic, task.task_priority, task.async_before) == (None, None, False)
    assert task.retry_time_cycle == "R5/PT5M"
    assert task.input_parameters == [
        ["to", {"text": "${requesterEmail}"}],
        [
            "cc",
            {"list": [{"text": "kac@example.lv"}, {"text": "${manager}"}, {"list": [{"text": "nested"}]}]},
        ],
        ["subject", {"text": "Pieteikums ${businessKey} / ${count + 1}"}],
        [
            "template",
            {
                "map": {
                    "name": {"text": "request-received"},
                    "values": {"map": {"who": {"text": '${ {"a": "}"}["a"] }'}}},
                    "tags": {"list": [{"text": "a"}]},
                }
            },
        ],
        ["fromAlias", {"text": None}],  # empty: Camunda's null
    ]
    assert task.output_parameters == [["mailSent", {"text": "${messageId}"}]]
    json.dumps(task.input_parameters)  # plain JSON


def test_value_elements_and_maps_in_lists() -> None:
    io = """<camunda:inputParameter name="wrapped"><camunda:value>${x}</camunda:value></camunda:inputParameter>
<camunda:inputParameter name="rows"><camunda:list>
  <camunda:map><camunda:entry key="a">1</camunda:entry></camunda:map>
  <camunda:value><camunda:list><camunda:value/></camunda:list></camunda:value>
  <!-- a comment is not an item -->
</camunda:list></camunda:inputParameter>"""
    task = spec_of(service_doc(external_task(io))).spec.task_specs["Ext"]
    assert task.input_parameters == [
        ["wrapped", {"text": "${x}"}],
        ["rows", {"list": [{"map": {"a": {"text": "1"}}}, {"list": [{"text": None}]}]}],
    ]
    assert task.output_parameters == []


def test_multi_instance_service_task_waits_per_item() -> None:
    task = external_task().replace(
        "<bpmn:extensionElements>",
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="items" camunda:elementVariable="item"/>'
        "<bpmn:extensionElements>",
    )
    process = spec_of(service_doc(task))
    serializer = Serializer()
    spec, _ = serializer.spec_from_json(serializer.spec_to_json(process.spec, {}))
    workflow = runtime.new_workflow(spec, {})
    runtime.start(workflow, {"items": ["a", "b"]})
    # The multi-instance task itself is STARTED too, while its instances run: look for the service tasks.
    waiting = [t for t in workflow.get_tasks(state=TaskState.STARTED) if isinstance(t.task_spec, PlusmaServiceTask)]
    assert [t.data["item"] for t in waiting] == ["a", "b"]
    assert {(t.task_spec.bpmn_id, t.task_spec.topic) for t in waiting} == {("Ext", "work")}
    for t in waiting:
        t.complete()
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_service_tasks_in_embedded_subprocesses_are_listed() -> None:
    sub = f"""    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="sub_start"/>
{external_task(task_id="Inner")}
      <bpmn:endEvent id="sub_end"/>
      <bpmn:sequenceFlow id="sf1" sourceRef="sub_start" targetRef="Inner"/>
      <bpmn:sequenceFlow id="sf2" sourceRef="Inner" targetRef="sub_end"/>
    </bpmn:subProcess>"""
    process = spec_of(service_doc(sub))
    assert [t.bpmn_id for t in process.service_tasks] == ["Inner"]


def test_parser_refuses_what_the_spec_cannot_hold() -> None:
    # Without the deployment check in front (which reports this first, see below), the parser still refuses.
    doc = service_doc(
        mail_task(
            MAIL_OK + '\n<camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1</camunda:script>'
            "</camunda:inputParameter>"
        )
    )
    parser = PlusmaParser()
    parser.add_bpmn_str(doc, "m.bpmn")
    with pytest.raises(ValidationException, match="scripts in input/output parameters are not supported"):
        parser.get_spec("p")


def test_expression_parts() -> None:
    assert expression_parts("Dear ${name}!") == ["Dear ", Expression("name"), "!"]
    assert expression_parts("${a.b}") == [Expression("a.b")]
    assert expression_parts('${ {"x": "}"}["x"] } and #{y}') == [
        Expression('{"x": "}"}["x"]'),
        " and ",
        Expression("y"),
    ]
    assert expression_parts("costs $5 {not} \\${literal}") == ["costs $5 {not} ${literal}"]
    assert expression_parts("") == []
    with pytest.raises(ValueError, match="not closed"):
        expression_parts("Hi ${name")


def test_parse_retry_time_cycle() -> None:
    retries, interval = parse_retry_time_cycle("R5/PT5M")
    assert retries == 5 and interval.duration == {"minutes": 5}
    assert parse_retry_time_cycle(" R0/P1D ")[0] == 0
    for bad in ("PT5M", "R/PT5M", "R-1/PT5M", "R5/5M", "R5/PT5M,PT10M", "R5/", "${cycle}", ""):
        with pytest.raises(ValueError, match="failedJobRetryTimeCycle"):
            parse_retry_time_cycle(bad)


def test_good_service_tasks_deploy() -> None:
    doc = service_doc(
        EXTERNAL_TASK,
        MAIL_TASK,
        external_task(task_id="Plain", attrs='camunda:topic="${topicName}" camunda:taskPriority="-5"'),
        mail_task(
            """            <camunda:inputParameter name="to"><camunda:list><camunda:value>a@b.lv</camunda:value>
            </camunda:list></camunda:inputParameter>
            <camunda:inputParameter name="template">welcome</camunda:inputParameter>
            <camunda:inputParameter name="language">${lang if lang else "lv"}</camunda:inputParameter>""",
            task_id="Mail2",
        ),
    )
    process = spec_of(doc)
    assert sorted(t.bpmn_id for t in process.service_tasks) == ["Check", "Mail2", "Notify", "Plain"]
    assert set(KNOWN_CONNECTORS) == {"mail-send"}


# ---------------------------------------------------------------------------------------------------------
# refusals: (task XML, element id, fragments of the message, text on the reported line)

DELEGATE = 'camunda:type="external" camunda:topic="x"'
REFUSALS = [
    pytest.param(
        '    <bpmn:serviceTask id="Java" camunda:class="lv.vid.Check"/>',
        "Java",
        ["serviceTask 'Java' uses camunda:class: Java delegates cannot run in Plūsma", 'camunda:type="external"'],
        'id="Java"',
        id="class",
    ),
    pytest.param(
        '    <bpmn:sendTask id="Java" camunda:delegateExpression="${sender}"/>',
        "Java",
        ["sendTask 'Java' uses camunda:delegateExpression", "mail-send connector"],
        'id="Java"',
        id="delegateExpression",
    ),
    pytest.param(
        '    <bpmn:serviceTask id="Java" camunda:expression="${bean.run()}"/>',
        "Java",
        ["uses camunda:expression: Java delegates cannot run"],
        'id="Java"',
        id="expression",
    ),
    pytest.param(
        '    <bpmn:serviceTask id="Nothing"/>',
        "Nothing",
        ["serviceTask 'Nothing' needs an implementation", 'camunda:type="external" with a camunda:topic'],
        'id="Nothing"',
        id="no-implementation",
    ),
    pytest.param(
        '    <bpmn:serviceTask id="Half" camunda:topic="work"/>',
        "Half",
        ['needs an implementation (it has a camunda:topic but no camunda:type="external")'],
        'id="Half"',
        id="topic-without-type",
    ),
    pytest.param(
        '    <bpmn:serviceTask id="Typed" camunda:type="soap"/>',
        "Typed",
        ["camunda:type 'soap'", 'only camunda:type="external" is supported'],
        'id="Typed"',
        id="other-type",
    ),
    pytest.param(
        external_task(attrs=""),
        "Ext",
        ['camunda:type="external" but no camunda:topic'],
        'id="Ext"',
        id="external-without-topic",
    ),
    pytest.param(
        external_task(attrs='camunda:topic="  "'),
        "Ext",
        ["no camunda:topic"],
        'id="Ext"',
        id="external-with-blank-topic",
    ),
    pytest.param(
        external_task(attrs='camunda:topic="${import os}"'),
        "Ext",
        ["camunda:topic: expression ${import os}:"],
        'id="Ext"',
        id="topic-expression",
    ),
    pytest.param(
        external_task(attrs='camunda:topic="t" camunda:taskPriority="high"'),
        "Ext",
        ["camunda:taskPriority 'high' is not a whole number"],
        'id="Ext"',
        id="task-priority",
    ),
    pytest.param(
        mail_task(MAIL_OK, connector_id=""),
        "Mail",
        ["camunda:connector has no camunda:connectorId (known: mail-send)"],
        "<camunda:connector>",
        id="connector-without-id",
    ),
    pytest.param(
        mail_task(MAIL_OK, connector_id="http-connector"),
        "Mail",
        ["unknown connector 'http-connector' (known: mail-send)"],
        "<camunda:connectorId>",
        id="unknown-connector",
    ),
    pytest.param(
        mail_task(MAIL_OK, attrs=' camunda:type="external" camunda:topic="t"'),
        "Mail",
        ['both camunda:type="external" and a camunda:connector'],
        "<camunda:connector>",
        id="connector-and-external",
    ),
    pytest.param(
        mail_task(MAIL_OK + '\n<camunda:inputParameter name="text">Hi ${user.__class__}</camunda:inputParameter>'),
        "Mail",
        ["parameter 'text': expression ${user.__class__}:"],
        '<camunda:inputParameter name="text">',
        id="expression-refused-by-sandbox",
    ),
    pytest.param(
        mail_task(MAIL_OK + '\n<camunda:inputParameter name="text">${a &amp;&amp; b}</camunda:inputParameter>'),
        "Mail",
        ["parameter 'text': ${a && b} is written in JUEL", "write ${a and b}"],
        '<camunda:inputParameter name="text">',
        id="juel-expression",
    ),
    pytest.param(
        mail_task(MAIL_OK + '\n<camunda:inputParameter name="text">Hi ${name</camunda:inputParameter>'),
        "Mail",
        ["parameter 'text' 'Hi ${name': the expression starting at", "is not closed"],
        '<camunda:inputParameter name="text">',
        id="unclosed-expression",
    ),
    pytest.param(
        mail_task(MAIL_OK + '\n<camunda:inputParameter name="text">Hi ${ }</camunda:inputParameter>'),
        "Mail",
        ["has an empty expression"],
        '<camunda:inputParameter name="text">',
        id="empty-expression",
    ),
    pytest.param(
        mail_task(
            MAIL_OK + '\n<camunda:inputParameter name="cc"><camunda:list><camunda:value>${x +}</camunda:value>'
            "</camunda:list></camunda:inputParameter>"
        ),
        "Mail",
        ["parameter 'cc': expression ${x +}: syntax error"],
        '<camunda:inputParameter name="cc">',
        id="expression-in-list",
    ),
    pytest.param(
        mail_task(
            MAIL_OK
            + '\n<camunda:inputParameter name="template"><camunda:map>\n<camunda:entry key="k">${1 +}</camunda:entry>'
            "</camunda:map></camunda:inputParameter>"
        ),
        "Mail",
        ["parameter 'template', key 'k': expression ${1 +}"],
        '<camunda:entry key="k">',
        id="expression-in-map",
    ),
    pytest.param(
        mail_task(
            MAIL_OK + '\n<camunda:inputParameter name="text">\n<camunda:script scriptFormat="javascript">'
            "'hi'</camunda:script></camunda:inputParameter>"
        ),
        "Mail",
        ["parameter 'text': scripts in input/output parameters are not supported; use a script task"],
        "<camunda:script",
        id="script-parameter",
    ),
    pytest.param(
        external_task(
            '<camunda:outputParameter name="r">\n<camunda:script scriptFormat="python">x</camunda:script>'
            "</camunda:outputParameter>"
        ),
        "Ext",
        ["scripts in input/output parameters are not supported"],
        "<camunda:script",
        id="script-output-parameter-external",
    ),
    pytest.param(
        mail_task(MAIL_OK + "\n<camunda:inputParameter>x</camunda:inputParameter>"),
        "Mail",
        ["a camunda:inputParameter has no name"],
        "<camunda:inputParameter>x",
        id="parameter-without-name",
    ),
    pytest.param(
        external_task('<camunda:outputParameter name=" ">x</camunda:outputParameter>'),
        "Ext",
        ["a camunda:outputParameter has no name"],
        '<camunda:outputParameter name=" ">',
        id="output-without-name",
    ),
    pytest.param(
        mail_task(
            MAIL_OK + '\n<camunda:inputParameter name="template"><camunda:map>\n<camunda:entry>x</camunda:entry>'
            "</camunda:map></camunda:inputParameter>"
        ),
        "Mail",
        ["every item of a camunda:map must be a camunda:entry with a key"],
        "<camunda:entry>x",
        id="map-entry-without-key",
    ),
    pytest.param(
        mail_task('            <camunda:inputParameter name="subject">Hi</camunda:inputParameter>'),
        "Mail",
        ['the mail-send connector needs a "to" input parameter'],
        "<camunda:inputOutput>",
        id="mail-without-to",
    ),
    pytest.param(
        mail_task('            <camunda:inputParameter name="to">a@b.lv</camunda:inputParameter>'),
        "Mail",
        ['the mail-send connector needs a "subject" or a "template" input parameter'],
        "<camunda:inputOutput>",
        id="mail-without-subject-or-template",
    ),
    pytest.param(
        mail_task(MAIL_OK + '\n<camunda:inputParameter name="subjet">typo</camunda:inputParameter>'),
        "Mail",
        ["the mail-send connector has no parameter 'subjet'", "fromAlias"],
        '<camunda:inputParameter name="subjet">',
        id="mail-unknown-parameter",
    ),
    pytest.param(
        mail_task(MAIL_OK).replace(
            "      </bpmn:extensionElements>",
            "<camunda:inputOutput>\n<camunda:inputParameter name='a'>1</camunda:inputParameter>"
            "</camunda:inputOutput>\n      </bpmn:extensionElements>",
        ),
        "Mail",
        ["camunda:inputOutput outside its camunda:connector"],
        "<camunda:inputOutput>\n<camunda:inputParameter name='a'>",
        id="task-level-io-on-connector",
    ),
    pytest.param(
        external_task(extra="\n<camunda:failedJobRetryTimeCycle>PT5M</camunda:failedJobRetryTimeCycle>"),
        "Ext",
        ["camunda:failedJobRetryTimeCycle 'PT5M' must be R<number of retries>/<ISO 8601 duration>"],
        "<camunda:failedJobRetryTimeCycle>",
        id="retry-without-repetitions",
    ),
    pytest.param(
        external_task(extra="\n<camunda:failedJobRetryTimeCycle>R3/10 minutes</camunda:failedJobRetryTimeCycle>"),
        "Ext",
        ["'10 minutes' is not a valid ISO 8601 duration"],
        "<camunda:failedJobRetryTimeCycle>",
        id="retry-bad-duration",
    ),
    pytest.param(
        mail_task(MAIL_OK).replace(
            "      </bpmn:extensionElements>",
            "\n<camunda:failedJobRetryTimeCycle>R/PT5M</camunda:failedJobRetryTimeCycle>\n"
            "      </bpmn:extensionElements>",
        ),
        "Mail",
        ["camunda:failedJobRetryTimeCycle 'R/PT5M'"],
        "<camunda:failedJobRetryTimeCycle>",
        id="retry-unbounded",
    ),
]


@pytest.mark.parametrize(("task", "element_id", "fragments", "line_text"), REFUSALS)
def test_refused_service_tasks(task: str, element_id: str, fragments: list[str], line_text: str) -> None:
    doc = service_doc(task)
    problem = only_problem(problems_of({"m.bpmn": doc}))  # reported once: SpiffWorkflow does not repeat it
    assert problem.file == "m.bpmn"
    assert problem.element_id == element_id
    assert problem.line == line_of(doc, line_text), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, problem.message


def test_every_problem_of_a_service_task_is_reported_at_once() -> None:
    doc = service_doc(
        '    <bpmn:serviceTask id="A" camunda:class="x.Y" camunda:delegateExpression="${d}"/>',
        mail_task('            <camunda:inputParameter name="cc">${a +}</camunda:inputParameter>', task_id="B"),
    )
    problems = problems_of({"m.bpmn": doc})
    assert sorted(p.element_id for p in problems) == ["A", "A", "B", "B", "B"], [str(p) for p in problems]
    messages = " | ".join(p.message for p in problems)
    for fragment in ("camunda:class", "camunda:delegateExpression", "${a +}", '"to"', '"subject" or a "template"'):
        assert fragment in messages


# ---------------------------------------------------------------------------------------------------------
# serialization


def service_attributes(task: PlusmaServiceTask) -> dict:
    return {attr: getattr(task, attr) for attr in PLUSMA_SERVICE_TASK_ATTRIBUTES} | {
        "bpmn_id": task.bpmn_id,
        "bpmn_name": task.bpmn_name,
        "description": task.description,
    }


def test_spec_serialization_keeps_every_attribute() -> None:
    process = spec_of(service_doc(EXTERNAL_TASK, MAIL_TASK))
    serializer = Serializer()
    text = serializer.spec_to_json(process.spec, process.subprocess_specs)
    spec, subprocess_specs = serializer.spec_from_json(text)
    assert subprocess_specs == {}
    for task_id in ("Check", "Notify"):
        original = process.spec.task_specs[task_id]
        restored = spec.task_specs[task_id]
        assert isinstance(restored, PlusmaServiceTask)
        assert service_attributes(restored) == service_attributes(original)
    # every attribute is really stored (not only defaulted on the way back)
    stored = json.loads(text)["spec"]["task_specs"]["Notify"]
    assert {attr: stored[attr] for attr in PLUSMA_SERVICE_TASK_ATTRIBUTES} == {
        attr: getattr(process.spec.task_specs["Notify"], attr) for attr in PLUSMA_SERVICE_TASK_ATTRIBUTES
    }
    # a second round trip is stable
    assert serializer.spec_to_json(spec, subprocess_specs) == text


def test_state_round_trip_keeps_the_waiting_task() -> None:
    process = spec_of(service_doc(EXTERNAL_TASK))
    serializer = Serializer()
    spec, subprocess_specs = serializer.spec_from_json(serializer.spec_to_json(process.spec, {}))
    workflow = runtime.new_workflow(spec, subprocess_specs)
    runtime.start(workflow, {"priority": 5, "applicant": {"code": "x"}})
    restored = runtime.attach(serializer.state_from_json(serializer.state_to_json(workflow), STATE_FORMAT, spec, {}))
    [waiting] = restored.get_tasks(state=TaskState.STARTED)
    assert waiting.task_spec.bpmn_id == "Check"
    assert service_attributes(waiting.task_spec) == service_attributes(process.spec.task_specs["Check"])
    assert waiting.data["applicant"] == {"code": "x"}
    waiting.complete()
    restored.do_engine_steps()
    assert restored.is_completed()


# ---------------------------------------------------------------------------------------------------------
# running


def started(workflow) -> list[str]:
    return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.STARTED)]


def test_workflow_waits_at_service_and_send_tasks() -> None:
    process = spec_of(service_doc(EXTERNAL_TASK, MAIL_TASK))
    workflow = runtime.new_workflow(process.spec, process.subprocess_specs)
    step = runtime.start(workflow, {"requesterEmail": "a@b.lv"})
    assert not step.completed and step.user_tasks == []
    assert started(workflow) == ["Check"]
    assert not workflow.is_completed()
    workflow.do_engine_steps()  # nothing happens by itself: the task waits for its worker
    assert started(workflow) == ["Check"]

    [check] = workflow.get_tasks(state=TaskState.STARTED)
    check.data["registered"] = True  # what a worker would report
    check.complete()
    workflow.do_engine_steps()
    assert started(workflow) == ["Notify"]
    [notify] = workflow.get_tasks(state=TaskState.STARTED)
    assert notify.data["registered"] is True
    notify.complete()
    workflow.do_engine_steps()
    assert workflow.is_completed()
