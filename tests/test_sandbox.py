"""The sandbox for process owners' code (engine.scripting): what it refuses, what it allows, and how it
plugs into SpiffWorkflow.  Pure engine: no database, no Flask."""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine.errors import ScriptError
from engine.scripting import (
    SANDBOX_FILENAME,
    SandboxedEnvironment,
    compile_expression,
    compile_script,
    create_script_engine,
    error_line,
    evaluate,
    execute,
    script_error_of,
)
from engine.scripting import sandbox as sandbox_module

ELEMENT = "Task_owner_code"


@pytest.fixture
def hang_guard():
    """Fail (instead of hanging the suite) if the time limit ever stops working."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("needs signal.setitimer")

    def on_alarm(signum, frame):  # noqa: ARG001
        # pytest's Failed is a BaseException: neither the sandbox nor the code under test can swallow it.
        pytest.fail("the sandbox's time limit did not stop the code")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 10)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def refused(run, *args, **kwargs) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        run(*args, **kwargs)
    err = info.value
    assert err.element_id == ELEMENT
    assert str(err).startswith(f"element '{ELEMENT}': ")
    return err


# ---------------------------------------------------------------------------------------------------------
# Escapes and dangerous builtins


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("__import__('os')", "name '__import__' is not allowed: names starting with '_' are refused"),
        ("().__class__.__base__.__subclasses__()", "attribute '__class__' is not allowed"),
        ("getattr((), '__class__')", "NameError: name 'getattr' is not defined"),
        ("open('/etc/passwd')", "NameError: name 'open' is not defined"),
        ("eval('1')", "eval() is not allowed"),
        ("compile('1', 'f', 'eval')", "NameError: name 'compile' is not defined"),
        ('"{0.__class__}".format(1)', "attribute 'format' is not allowed"),
        ('"{a.__class__}".format_map({"a": 1})', "attribute 'format_map' is not allowed"),
        ("str.format('{0.__class__}', 1)", "attribute 'format' is not allowed"),
        ("type(1)", "NameError: name 'type' is not defined"),
        ("globals()", "NameError: name 'globals' is not defined"),
        ("vars()", "NameError: name 'vars' is not defined"),
        ("dir()", "NameError: name 'dir' is not defined"),
        ("setattr(x, 'a', 1)", "NameError: name 'setattr' is not defined"),
        ("(x for x in [1]).gi_frame.f_globals", "attribute 'gi_frame' is not allowed"),
        ("(lambda: 0).__code__", "attribute '__code__' is not allowed"),
        ("(lambda: 0).__globals__", "attribute '__globals__' is not allowed"),
        ("ValueError.mro()[-1]", "attribute 'mro' is not allowed"),
        ("f'{amount.__class__}'", "attribute '__class__' is not allowed"),
        ("__builtins__", "name '__builtins__' is not allowed"),
        ("_getattr_(1, 'real')", "name '_getattr_' is not allowed"),
        ("breakpoint()", "name 'breakpoint' is reserved"),
    ],
)
def test_expression_escapes_are_refused(source, reason):
    err = refused(evaluate, source, {"amount": 1, "x": {}}, ELEMENT)
    assert reason in err.reason


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import os", "import is not allowed"),
        ("from os import path", "import is not allowed"),
        ("exec('x=1')", "exec() is not allowed"),
        ("x = 1\nimport subprocess", "import is not allowed (line 2)"),
        ("class A:\n    pass", "class definitions are not allowed"),
        ("try:\n    x = 1\nfinally:\n    y = 2", "'finally' blocks are not allowed"),
        ("with x:\n    pass", "'with' statements are not allowed"),
        ("_hidden = 1", "name '_hidden' is not allowed"),
        ("def f():\n    yield 1\ng = f()\nframe = g.gi_frame", "attribute 'gi_frame' is not allowed"),
        ("def f():\n    yield 1\nx = f().gi_frame.f_back.f_globals", "attribute 'f_globals' is not allowed"),
        ("g = (i for i in [1])\nc = g.gi_code", "attribute 'gi_code' is not allowed"),
        ("print = 1", "name 'print' is reserved"),
        ("d[f()] += 1", "augmented assignment to an item of a computed object or key is not allowed"),
    ],
)
def test_script_escapes_are_refused(source, reason):
    context = {"x": 1, "d": {}}
    err = refused(execute, source, context, ELEMENT)
    assert reason in err.reason
    assert context == {"x": 1, "d": {}}


def test_refusals_happen_at_compile_time_for_deployment():
    # Deployment validation calls the compile functions: refused code never has to run to be caught.
    for source in ("import os", "().__class__", "'{0}'.format(1)", "x.gi_frame"):
        with pytest.raises(ScriptError) as info:
            compile_script(source, "Script_1")
        assert info.value.element_id == "Script_1"
    with pytest.raises(ScriptError, match=r"element 'Flow_1': syntax error on line 1: "):
        compile_expression("amount >", "Flow_1")
    with pytest.raises(ScriptError, match=r"syntax error on line 3: "):
        compile_script("x = 1\ny = 2\nz = (", "Script_1")


def test_every_problem_is_reported_with_its_line():
    err = refused(compile_script, "x = 1\nimport os\n_y = 2", ELEMENT)
    assert err.reason == (
        "import is not allowed (line 2); name '_y' is not allowed: names starting with '_' are refused (line 3)"
    )
    assert error_line(err) == 2


def test_unavailable_builtins_say_so():
    err = refused(evaluate, "open('/etc/passwd')", {}, ELEMENT)
    assert err.reason == "NameError: name 'open' is not defined (open() is not available in process code)"


def test_task_data_cannot_replace_the_guards():
    # A variable called like a guard is shadowed by the guard, not the other way round.
    assert evaluate("d.get('a')", {"d": {"a": 5}, "_getattr_": "not a guard"}, ELEMENT) == 5


def test_refusals_cannot_be_caught_by_the_code():
    source = "try:\n    x = 'a' * 10**10\nexcept Exception:\n    x = 'caught'"
    err = refused(execute, source, {}, ELEMENT)
    assert "'*' refused" in err.reason


# ---------------------------------------------------------------------------------------------------------
# Time limit


def test_endless_loop_is_stopped_by_the_time_limit(hang_guard):
    started = time.monotonic()
    err = refused(execute, "while True: pass", {}, ELEMENT, time_limit=0.2)
    assert time.monotonic() - started < 2
    assert err.reason == "script exceeded the time limit of 0.2 s (line 1)"


def test_time_limit_is_a_module_setting(hang_guard, monkeypatch):
    monkeypatch.setattr(sandbox_module, "TIME_LIMIT", 0.1)
    err = refused(evaluate, "[1 for a in range(10**7) for b in range(10**7)]", {}, ELEMENT)
    assert err.reason == "expression exceeded the time limit of 0.1 s"


@pytest.mark.parametrize(
    "source",
    [
        # A bare except (rewritten to `except Exception`) must not catch the time limit.
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
        # CPython switches tracing off when the tracer itself hits the recursion limit; the except block
        # re-arms it, or this loop would run forever.
        "def f():\n    f()\ntry:\n    f()\nexcept RecursionError:\n    pass\nwhile True:\n    pass",
        "def f(n):\n    try:\n        return f(n + 1)\n    except Exception:\n"
        "        while True:\n            pass\nf(0)",
        # Loops inside generators and lambdas called from C are traced too.
        "def g():\n    while True:\n        yield 1\nfor x in g():\n    pass",
        "x = sorted(range(3), key=lambda v: [1 for _ in range(10**7) for _ in range(10**7)])",
    ],
)
def test_time_limit_cannot_be_evaded(hang_guard, source):
    started = time.monotonic()
    err = refused(execute, source, {}, ELEMENT, time_limit=0.2)
    assert "exceeded the time limit of 0.2 s" in err.reason
    assert time.monotonic() - started < 2


def test_previous_trace_function_is_restored_and_chained():
    calls: list[str] = []

    def recorder(frame, event, arg):  # noqa: ARG001
        if event == "call":
            calls.append(frame.f_code.co_name)
        return None

    previous = sys.gettrace()
    sys.settrace(recorder)
    try:
        execute("x = 'ab' * 2", {}, ELEMENT)
        with pytest.raises(ScriptError):
            execute("while True: pass", {}, ELEMENT, time_limit=0.05)
        after = sys.gettrace()
    finally:
        sys.settrace(previous)
    assert after is recorder
    assert "_guarded_mul" in calls  # our guard ran while the sandbox's tracer was installed: chained
    assert not any(name == "<module>" for name in calls)  # sandboxed frames are the sandbox's own business


def test_a_runaway_script_in_one_thread_does_not_disturb_another(hang_guard):
    outcome: dict[str, str] = {}

    def runaway():
        try:
            execute("while True:\n    pass", {}, "Script_runaway", time_limit=0.3)
        except ScriptError as err:
            outcome["runaway"] = err.reason

    worker = threading.Thread(target=runaway)
    worker.start()
    results = [evaluate("n % 7 == 0", {"n": n}, ELEMENT) for n in range(2000)]
    worker.join(5)
    assert results.count(True) == 286
    # The loop is stopped on its `while` line or in its body, whichever runs when the deadline passes.
    assert outcome["runaway"] in {f"script exceeded the time limit of 0.3 s (line {n})" for n in (1, 2)}


# ---------------------------------------------------------------------------------------------------------
# Enormous results of a single operation


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("10**10**10", "'**' refused"),
        ("'a'*10**10", "'*' refused"),
        ("[0] * 10**10", "'*' refused"),
        ("10**10 * (1,)", "'*' refused"),
        ("1 << 10**10", "'<<' refused"),
        ("pow(10, 10**10)", "'**' refused"),
        ("(2**9000) * (2**9000)", "'*' refused"),
        ("'x'.ljust(10**10)", "ljust() refused"),
        ("str.center('x', 10**10)", "center() refused"),
        ("'1'.zfill(10**10)", "zfill() refused"),
        ("('a' * 5000).replace('a', 'b' * 5000)", "replace() refused"),
        ("('x' * 10**4).join(['y' * 10**4] * 10**4)", "join() refused"),
        ("(1).to_bytes(10**10, 'big')", "to_bytes() refused"),
        ("int.from_bytes(('a' * 10**5).encode(), 'big')", "int.from_bytes() refused"),
        ("f'{1:>10000000000}'", "format spec refused"),
        ("'%10000000000d' % 1", "'%' formatting refused"),
        ("'%*d' % (10**10, 1)", "'*' widths are not allowed"),
        ("sum(range(10**12))", "range() refused"),
        ("sum([[0] * 10**6] * 100, [])", "'+' refused"),
    ],
)
def test_enormous_results_are_refused(source, reason):
    started = time.monotonic()
    err = refused(evaluate, source, {}, ELEMENT)
    assert reason in err.reason
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "source",
    [
        "x = 'ab'\nx *= 10**10",
        "x = [1]\nfor i in range(40):\n    x = x + x",
        "x = [1]\nfor i in range(40):\n    x += x",
        "x = [1]\nfor i in range(40):\n    x.extend(x)",
        "x = [1]\nfor i in range(40):\n    x[len(x):] = x",
    ],
)
def test_doubling_is_refused_before_memory_runs_out(source):
    err = refused(execute, source, {}, ELEMENT)
    assert "refused: the result would have" in err.reason


def test_reasonable_sizes_pass():
    assert evaluate("2**100 + len('ab' * 1000) + len([0] * 1000) + (1 << 64)", {}, ELEMENT) == (
        2**100 + 2000 + 1000 + 2**64
    )
    assert evaluate("f'{amount:>10.2f}|{name!r:<8}|'", {"amount": 3.14159, "name": "ab"}, ELEMENT) == (
        "      3.14|'ab'    |"
    )
    assert evaluate("'%05.1f %s' % (2.25, 'x')", {}, ELEMENT) == "002.2 x"
    assert evaluate("'-'.join(['a', 'b'])", {}, ELEMENT) == "a-b"
    assert evaluate("sum([[1], [2]], []) + [sum([1, 2], 10)]", {}, ELEMENT) == [1, 2, 13]


# ---------------------------------------------------------------------------------------------------------
# Errors of the process owner's code


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("amount > 100", "NameError: name 'amount' is not defined"),
        ("1 / 0", "ZeroDivisionError: division by zero"),
        ("'a' + 1", 'TypeError: can only concatenate str (not "int") to str'),
        ("{}['missing']", "KeyError: 'missing'"),
        ("d.missing", "AttributeError: 'dict' object has no attribute 'missing'"),
    ],
)
def test_errors_name_the_element_and_the_original_error(source, message):
    err = refused(evaluate, source, {"d": {}}, ELEMENT)
    assert str(err) == f"element '{ELEMENT}': {message}"
    assert type(err.__cause__).__name__ == message.split(":")[0]


def test_script_errors_carry_the_line():
    err = refused(execute, "x = 1\ny = x + missing", {}, ELEMENT)
    assert err.reason == "NameError: name 'missing' is not defined (line 2)"
    assert error_line(err) == 2
    err = refused(execute, "raise ValueError('amount must be positive')", {}, ELEMENT)
    assert err.reason == "ValueError: amount must be positive (line 1)"


def test_failing_script_leaves_task_data_alone():
    context = {"x": 1}
    refused(execute, "x = 2\ny = 3\nz = 1 / 0", context, ELEMENT)
    assert context == {"x": 1}


# ---------------------------------------------------------------------------------------------------------
# Normal code


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("amount > 100 and category == 'incident'", {"amount": 150, "category": "incident"}, True),
        ("amount > 100 and category == 'incident'", {"amount": 50, "category": "incident"}, False),
        ("priority in ('high', 'critical')", {"priority": "critical"}, True),
        ("priority in ('high', 'critical')", {"priority": "low"}, False),
        ("len(items) >= 2 and sorted(items)[0] == 1", {"items": [3, 1]}, True),
        ("name.strip().upper()", {"name": "  anna "}, "ANNA"),
        ("f'{name}-{count}'", {"name": "a", "count": 2}, "a-2"),
        # Attribute access in f-strings goes through the same guard as anywhere else: safe, so allowed.
        ("f\"{order.get('id')}: {name.upper()}\"", {"order": {"id": 7}, "name": "x"}, "7: X"),
        ("sum(x * 2 for x in values if x > 1)", {"values": [1, 2, 3]}, 10),
        ("max(values) - min(values) + abs(-2) + round(2.5)", {"values": [1, 5]}, 8),
        ("{k: v for k, v in zip('ab', range(2))}", {}, {"a": 0, "b": 1}),
        ("[i for i, _ in enumerate('abc')]", {}, [0, 1, 2]),
        ("isinstance(amount, int) and int('5') + float('1.5') == 6.5", {"amount": 1}, True),
        ("math.floor(math.sqrt(17))", {}, 4),
        ("date(2024, 2, 29).isoformat()", {}, "2024-02-29"),
        ("(datetime(2024, 1, 1) + timedelta(days=31)).month", {}, 2),
        # A task variable shadows a helper of the same name.
        ("date == '2024-01-01'", {"date": "2024-01-01"}, True),
        # Conditions in BPMN XML come with surrounding whitespace.
        ("\n      amount > 1\n    ", {"amount": 2}, True),
    ],
)
def test_normal_expressions(source, data, expected):
    before = dict(data)
    assert evaluate(source, data, ELEMENT) == expected
    assert data == before


def test_timer_expression_gives_an_iso_date():
    value = evaluate(
        "(datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(hours=due_in_hours)).isoformat()",
        {"due_in_hours": 5},
        ELEMENT,
    )
    assert value == datetime(2024, 1, 1, 5, tzinfo=UTC).isoformat()


def test_script_sets_variables_and_leaves_only_data():
    context = {"amount": 120, "tags": ["b"], "counts": {"n": 1}, "obsolete": True}
    script = """
        total = 0
        for i in range(3):
            total += i
        tags.append('a')
        tags = sorted(tags)
        counts['n'] += 1
        counts['seen'] = True
        report = {'amount': amount, 'double': amount * 2, 'names': [t.upper() for t in tags]}
        label = f"{amount} EUR".strip()
        due = datetime(2024, 1, 1) + timedelta(days=2)
        def helper(v):
            return v + 1
        bumped = helper(amount)
        m = math
        del obsolete
        print('debug output')
    """
    execute(script, context, ELEMENT)
    assert context == {
        "amount": 120,
        "tags": ["a", "b"],
        "counts": {"n": 2, "seen": True},
        "total": 3,
        "report": {"amount": 120, "double": 240, "names": ["A", "B"]},
        "label": "120 EUR",
        "due": datetime(2024, 1, 3),
        "bumped": 121,
        "i": 2,
    }
    assert not any(callable(v) for v in context.values())
    assert "__builtins__" not in context


def test_script_sees_outer_names_without_storing_them():
    context = {"a": 1}
    execute("b = a + limit", context, ELEMENT, outer={"limit": 10})
    assert context == {"a": 1, "b": 11}


def test_generators_and_functions_do_not_escape():
    err = refused(execute, "g = (i for i in range(3))", {}, ELEMENT)
    assert "holds a generator" in err.reason
    assert "produced a generator" in refused(evaluate, "(i for i in range(3))", {}, ELEMENT).reason
    assert "produced a function" in refused(evaluate, "lambda: 1", {}, ELEMENT).reason


def test_compiled_code_is_cached_and_named_for_the_tracer():
    first = compile_expression("amount > 100")
    assert compile_expression("amount > 100") is first
    assert first.co_filename == SANDBOX_FILENAME


# ---------------------------------------------------------------------------------------------------------
# Through SpiffWorkflow

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Sandbox_process" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_prepare" />
    <bpmn:scriptTask id="Script_prepare" scriptFormat="python">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_prepare" targetRef="Gateway_amount" />
    <bpmn:exclusiveGateway id="Gateway_amount" default="Flow_small">
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_big</bpmn:outgoing><bpmn:outgoing>Flow_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Gateway_amount" targetRef="Script_big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Gateway_amount" targetRef="Script_small" />
    <bpmn:scriptTask id="Script_big" scriptFormat="python">
      <bpmn:incoming>Flow_big</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
      <bpmn:script>path = 'big'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="Script_small" scriptFormat="python">
      <bpmn:incoming>Flow_small</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:script>path = 'small'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_big" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Script_small" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:incoming>Flow_4</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

PREPARE = """
    total = sum(item['price'] * item['qty'] for item in items)
    category = kind.strip().lower()
"""


def run_process(data: dict, script: str = PREPARE, condition: str = "total &gt; 100 and category == 'incident'"):
    parser = CamundaParser()
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode(), "sandbox.bpmn")
    spec = parser.get_spec("Sandbox_process")
    workflow = BpmnWorkflow(spec, parser.get_subprocess_specs("Sandbox_process"), script_engine=create_script_engine())
    workflow.get_tasks(spec_name="Start")[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(
    ("items", "kind", "path"),
    [
        ([{"price": 60, "qty": 2}], " Incident ", "big"),
        ([{"price": 60, "qty": 1}], "incident", "small"),
        ([{"price": 600, "qty": 1}], "request", "small"),
    ],
)
def test_process_takes_the_path_its_condition_chooses(items, kind, path):
    workflow = run_process({"items": items, "kind": kind})
    assert workflow.is_completed()
    assert workflow.last_task.data["path"] == path
    completed = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert ("Script_big" in completed) == (path == "big")
    assert ("Script_small" in completed) == (path == "small")


def test_script_task_escape_fails_naming_the_script_task():
    with pytest.raises(WorkflowTaskException) as info:
        run_process({"items": [], "kind": "x"}, script="leak = ().__class__")
    wte = info.value
    assert "element 'Script_prepare'" in str(wte)
    assert "attribute '__class__' is not allowed" in str(wte)
    assert wte.task_spec.bpmn_id == "Script_prepare"
    err = script_error_of(wte)
    assert isinstance(err, ScriptError) and err.element_id == "Script_prepare"
    assert wte.error_type == "SyntaxError"  # refused at compile time


def test_script_task_runtime_error_keeps_spiffworkflow_details():
    with pytest.raises(WorkflowTaskException) as info:
        run_process({"items": [], "kind": "x"}, script="a = 1\nb = a / 0")
    wte = info.value
    assert wte.error_type == "ZeroDivisionError"
    assert (wte.line_number, wte.error_line) == (2, "b = a / 0")
    assert script_error_of(wte).reason == "ZeroDivisionError: division by zero (line 2)"


def test_condition_error_names_the_gateway():
    with pytest.raises(WorkflowTaskException) as info:
        run_process({"items": [], "kind": "incident"}, condition="totl &gt; 100")
    wte = info.value
    err = script_error_of(wte)
    assert err is not None and err.element_id == "Gateway_amount"
    assert str(err) == "element 'Gateway_amount': NameError: name 'totl' is not defined"
    assert wte.error_type == "NameError"
    assert "Did you mean" in str(wte) and "'total'" in str(wte)  # SpiffWorkflow's own hint still works
    assert "Error evaluating expression 'totl > 100'" in str(wte)


def test_endless_script_task_is_stopped(hang_guard, monkeypatch):
    monkeypatch.setattr(sandbox_module, "TIME_LIMIT", 0.2)
    with pytest.raises(WorkflowTaskException) as info:
        run_process({"items": [], "kind": "x"}, script="while True:\n    pass")
    assert script_error_of(info.value).reason in {f"script exceeded the time limit of 0.2 s (line {n})" for n in (1, 2)}


BRT_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Rule_process" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_classify" />
    <bpmn:businessRuleTask id="Task_classify" camunda:decisionRef="classify">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_classify" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_dmn" name="D" namespace="x">
  <decision id="classify" name="Classify">
    <decisionTable id="Table" hitPolicy="FIRST">
      <input id="In_priority" label="Priority">
        <inputExpression id="Expr_priority" typeRef="string"><text>priority</text></inputExpression>
      </input>
      <input id="In_amount" label="Amount">
        <inputExpression id="Expr_amount" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="Out_route" label="Route" name="route" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="E11"><text>"high"</text></inputEntry>
        <inputEntry id="E12"><text>&gt; 5</text></inputEntry>
        <outputEntry id="O1"><text>{output}</text></outputEntry>
      </rule>
      <rule id="Rule_2">
        <inputEntry id="E21"><text>-</text></inputEntry>
        <inputEntry id="E22"><text>1 &lt;= ? &lt;= 5</text></inputEntry>
        <outputEntry id="O2"><text>"desk-" + priority</text></outputEntry>
      </rule>
      <rule id="Rule_3">
        <inputEntry id="E31"><text>-</text></inputEntry>
        <inputEntry id="E32"><text>-</text></inputEntry>
        <outputEntry id="O3"><text>"backlog"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def run_decision(data: dict, output: str = '"expert"') -> BpmnWorkflow:
    parser = CamundaParser()
    parser.add_bpmn_str(BRT_BPMN, "rules.bpmn")
    parser.add_dmn_str(DMN.format(output=output).encode(), "classify.dmn")
    spec = parser.get_spec("Rule_process")
    workflow = BpmnWorkflow(spec, parser.get_subprocess_specs("Rule_process"), script_engine=create_script_engine())
    workflow.get_tasks(spec_name="Start")[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(
    ("priority", "amount", "route"),
    [("high", 9, "expert"), ("high", 3, "desk-high"), ("low", 9, "backlog"), ("low", 2, "desk-low")],
)
def test_dmn_cells_run_in_the_sandbox(priority, amount, route):
    workflow = run_decision({"priority": priority, "amount": amount})
    assert workflow.is_completed()
    assert workflow.last_task.data["route"] == route


def test_dmn_cell_escape_names_the_business_rule_task():
    with pytest.raises(WorkflowTaskException) as info:
        run_decision({"priority": "high", "amount": 9}, output="().__class__")
    err = script_error_of(info.value)
    assert err is not None and err.element_id == "Task_classify"
    assert "attribute '__class__' is not allowed" in err.reason


def test_environment_keeps_spiffworkflow_context_semantics():
    environment = SandboxedEnvironment(environment_globals={"vat": 0.21})
    context = {"net": 100}
    assert environment.execute("gross = net * (1 + vat)", context, {"dmninputexpr": 1}) is True
    assert context == {"net": 100, "gross": pytest.approx(121.0)}
    assert environment.evaluate("dmninputexpr > 0 and gross > net", context, {"dmninputexpr": 1}) is True
    with pytest.raises(ScriptError, match="task data overwrites predefined names; rename .* fields: vat"):
        environment.execute("x = 1", {"vat": 1})


def test_engine_time_limit_is_configurable(hang_guard):
    engine = create_script_engine(time_limit=0.1)
    started = time.monotonic()
    with pytest.raises(ScriptError, match=r"time limit of 0\.1 s"):
        engine.environment.execute("while True:\n    pass", {}, element_id=ELEMENT)
    assert time.monotonic() - started < 2


def test_timer_offsets_are_plain_expressions():
    now = datetime.now(UTC)
    value = evaluate("(start + timedelta(minutes=30)).isoformat()", {"start": now}, ELEMENT)
    assert datetime.fromisoformat(value) == now + timedelta(minutes=30)
