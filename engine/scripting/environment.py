"""SpiffWorkflow glue: a script environment and a script engine that run process owners' code in the sandbox.

How errors surface: the sandbox raises ``ScriptError`` (element id in ``element_id``, the bare message in
``reason``).  ``SandboxedScriptEngine`` turns it into SpiffWorkflow's usual ``WorkflowTaskException`` (so
SpiffWorkflow's own handling -- DMN row notes, task traces, ERROR states -- keeps working), raised
``from`` the ``ScriptError``: ``wte.__cause__`` is the ``ScriptError``; ``wte.task_spec.bpmn_id`` names the
element too; ``wte.line_number``/``error_line`` point into the code; ``wte.error_type`` is the process
owner's exception class (``NameError``, ``ZeroDivisionError``; ``SyntaxError`` for refused code;
``ScriptError`` for a time limit or a refused operation).  ``script_error_of`` finds the ``ScriptError``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task

from engine.errors import ScriptError
from engine.scripting import sandbox


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """``TaskDataEnvironment``'s semantics, run in the sandbox.

    ``evaluate`` reads the task data; ``execute`` leaves in it the script's new and changed variables and
    nothing else (no builtins, helpers, functions, external-context names).  ``environment_globals`` are
    extra trusted names offered to the code, as in SpiffWorkflow; ``time_limit`` overrides
    ``sandbox.TIME_LIMIT``.
    """

    def __init__(self, environment_globals: Mapping[str, Any] | None = None, time_limit: float | None = None) -> None:
        super().__init__(dict(environment_globals or {}))
        self.time_limit = time_limit

    def _outer(self, external_context: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if self.globals and external_context:
            return {**self.globals, **external_context}
        return external_context or self.globals or None

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
        element_id: str | None = None,
    ) -> Any:
        return sandbox.evaluate(
            expression, context, element_id, outer=self._outer(external_context), time_limit=self.time_limit
        )

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
        element_id: str | None = None,
    ) -> bool:
        self.check_for_overwrite(context, external_context or {}, element_id)
        sandbox.execute(script, context, element_id, outer=self._outer(external_context), time_limit=self.time_limit)
        return True

    def check_for_overwrite(
        self, context: Mapping[str, Any], external_context: Mapping[str, Any], element_id: str | None = None
    ) -> None:
        """As in ``TaskDataEnvironment``: task data must not hide a predefined or external name."""
        clashes = set(self.globals).intersection(context) | set(external_context).intersection(context)
        if clashes:
            raise ScriptError(
                "task data overwrites predefined names; rename these variables or fields: "
                + ", ".join(sorted(clashes)),
                element_id,
            )


def _element_id(task: Task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


class SandboxedScriptEngine(PythonScriptEngine):
    """``PythonScriptEngine`` that hands the element id of the task to the sandbox.

    ``validate`` stays SpiffWorkflow's plain ``ast.parse``: DMNEngine relies on its ``SyntaxError`` to tell
    ``"high"`` from ``> 5``.  Deployment checks code with ``compile_expression``/``compile_script`` instead.
    """

    environment: SandboxedEnvironment

    def __init__(self, environment: SandboxedEnvironment | None = None) -> None:
        super().__init__(environment or SandboxedEnvironment())

    def evaluate(self, task: Task, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        if expression is None:
            # SpiffWorkflow evaluates optional expressions it parsed as absent, e.g. the payload
            # (camunda:expression) of a message throw event without one: no payload.
            return None
        try:
            return self.environment.evaluate(expression, task.data, external_context, element_id=_element_id(task))
        except ScriptError as err:
            wte = self._task_exception(task, expression.strip() if isinstance(expression, str) else "", err)
            wte.add_note(f"Error evaluating expression '{expression}'")
            raise wte from err
        except SpiffWorkflowException as se:
            se.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as e:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}'", task=task, exception=e) from e

    def execute(self, task: Task, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context or {}, element_id=_element_id(task))
        except ScriptError as err:
            raise self._task_exception(task, textwrap.dedent(script) if isinstance(script, str) else "", err) from err
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    @staticmethod
    def _task_exception(task: Task, source: str, err: ScriptError) -> WorkflowTaskException:
        # ``source`` as the sandbox compiled it (stripped / dedented), so that line numbers match.
        line = sandbox.error_line(err)
        lines = source.splitlines()
        text = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        # The process owner's own exception (NameError, ...) when there is one: WorkflowTaskException takes its
        # class name as error_type, and adds "Did you mean ...?" for a NameError.
        cause = err.__cause__ if isinstance(err.__cause__, Exception) else err
        return WorkflowTaskException(str(err), task=task, exception=cause, line_number=line, error_line=text)


def create_script_engine(
    time_limit: float | None = None, environment_globals: Mapping[str, Any] | None = None
) -> SandboxedScriptEngine:
    """A SpiffWorkflow script engine that runs all conditions, scripts, DMN cells and timers in the sandbox."""
    return SandboxedScriptEngine(SandboxedEnvironment(environment_globals, time_limit=time_limit))


def script_error_of(error: BaseException | None) -> ScriptError | None:
    """The ``ScriptError`` behind ``error`` (itself, or along its ``__cause__`` chain), if any."""
    seen = 0
    while error is not None and seen < 20:  # bounded: cause chains can be cyclic in principle
        if isinstance(error, ScriptError):
            return error
        error, seen = error.__cause__, seen + 1
    return None
