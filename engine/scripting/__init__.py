"""Process owners' code (conditions, scripts, DMN cells, timer expressions) run in a RestrictedPython sandbox.

Limits (``TIME_LIMIT``, ``MAX_INT_BITS``, ``MAX_ITEMS``, ``MAX_FORMAT_WIDTH``) are settings of
``engine.scripting.sandbox``; change them there, not on this package.
"""

from __future__ import annotations

from engine.scripting.environment import (
    SandboxedEnvironment,
    SandboxedScriptEngine,
    create_script_engine,
    script_error_of,
)
from engine.scripting.sandbox import (
    HELPERS,
    SANDBOX_FILENAME,
    compile_expression,
    compile_script,
    error_line,
    evaluate,
    execute,
)

__all__ = [
    "HELPERS",
    "SANDBOX_FILENAME",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "compile_expression",
    "compile_script",
    "create_script_engine",
    "error_line",
    "evaluate",
    "execute",
    "script_error_of",
]
