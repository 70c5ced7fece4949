"""Errors the engine raises; entry points map them to their own shapes (HTTP status, exit code)."""

from __future__ import annotations


class PlusmaError(Exception):
    """Base of every error the engine raises on purpose."""

    #: Camunda's exception type name, used by the REST layer as the error's ``type``.
    camunda_type = "ProcessEngineException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PlusmaError):
    camunda_type = "InvalidRequestException"


class BadRequest(PlusmaError):
    camunda_type = "InvalidRequestException"


class Forbidden(PlusmaError):
    camunda_type = "AuthorizationException"


class Unauthorized(PlusmaError):
    camunda_type = "AuthenticationException"


class TooManyAttempts(Unauthorized):
    """Too many failed sign-ins: nothing is checked until ``retry_after`` seconds have passed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(PlusmaError):
    """A write was based on state that changed meanwhile (a stale version)."""

    camunda_type = "OptimisticLockingException"


class ScriptError(PlusmaError):
    """A process owner's expression or script was refused or failed.

    ``element_id`` names the BPMN element that holds the code, when known.
    """

    camunda_type = "ScriptEvaluationException"

    def __init__(self, message: str, element_id: str | None = None) -> None:
        self.element_id = element_id
        self.reason = message
        where = f"element '{element_id}': " if element_id else ""
        super().__init__(f"{where}{message}")


class ModelProblem:
    """One thing wrong with a deployed file: where it is and what is wrong."""

    __slots__ = ("file", "element_id", "line", "message")

    def __init__(self, file: str, message: str, element_id: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.element_id = element_id
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.element_id:
            where.append(f"element '{self.element_id}'")
        return f"{', '.join(where)}: {self.message}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "elementId": self.element_id, "message": self.message}


class InvalidModel(BadRequest):
    """A deployment was refused; ``problems`` lists every problem found."""

    camunda_type = "ParseException"

    def __init__(self, problems: list[ModelProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
