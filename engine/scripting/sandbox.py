"""The sandbox for process owners' code: gateway conditions, script tasks, DMN cells, timer expressions.

That code is untrusted. It is compiled with RestrictedPython (with an extra policy layer, ``_SandboxPolicy``)
and run with guarded globals, under a deadline:

* Compile time refuses imports, names and attributes starting with ``_``, frame/generator internals
  (``gi_frame``, ``f_globals``, ...), ``str.format``/``format_map``, class definitions, ``with`` and
  ``finally`` blocks, ``eval``/``exec`` calls.  Bare ``except:`` becomes ``except Exception:`` and every
  ``except`` block re-arms the deadline (see ``_rearm``).
* Run time gives only a curated set of builtins (no getattr/type/vars/open/compile/...), checks every
  attribute access again (``_guarded_getattr``), and routes ``**``, ``*``, ``<<``, ``+``, ``%``, f-string
  format specs and a few string/list/int methods through guards that refuse enormous results, since a
  single C operation cannot be interrupted by the deadline.
* The deadline is a ``sys.settrace`` hook that traces only frames of sandboxed code (filename
  ``SANDBOX_FILENAME``) and chains to whatever tracer was active before (coverage, a debugger).

Everything the process owner's code does wrong comes out as ``engine.errors.ScriptError`` naming the element.
Limits are module-level settings, read at call time (e.g. ``sandbox.TIME_LIMIT = 2.0``).
"""

from __future__ import annotations

import ast
import copy
import functools
import logging
import math
import operator
import re
import sys
import textwrap
import threading
import time
import types
from collections.abc import Callable, Mapping, MutableMapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from RestrictedPython import (
    PrintCollector,
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    raise_,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, copy_locations

from engine.errors import ScriptError

logger = logging.getLogger(__name__)

#: Filename of every sandboxed code object: the tracer recognises sandboxed frames by it.
SANDBOX_FILENAME = "<process-script>"

#: Wall-clock seconds one evaluation or script may run.
TIME_LIMIT = 1.0
#: Largest int (in bits) that ``**``, ``*``, ``<<``, ``pow()`` and ``int.from_bytes`` may produce.
MAX_INT_BITS = 10_000
#: Largest str/bytes/list/tuple (in items) that one operation may produce; also the longest ``range()``.
MAX_ITEMS = 10_000_000
#: Largest width or precision in a format spec (f-strings, ``%`` formatting).
MAX_FORMAT_WIDTH = 10_000
#: How many distinct sources keep their compiled code.
COMPILE_CACHE_SIZE = 4096

_monotonic = time.monotonic


# ---------------------------------------------------------------------------------------------------------
# Internal signals.  Both derive from BaseException on purpose: the process owner's ``except Exception``
# (and the rewritten bare ``except:``) cannot swallow them, so a refusal or a timeout always ends the run.


class _Refused(BaseException):
    """A run-time guard refused an operation."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _TimeLimitExceeded(BaseException):
    """Raised by the tracer once the deadline has passed."""


# ---------------------------------------------------------------------------------------------------------
# Compilation

# Attributes refused on top of RestrictedPython's own rules: format strings reach attributes of their
# arguments ("{0.__class__}"), and ``mro()`` hands out BaseException, which could catch the timeout.
_REFUSED_ATTRIBUTES: dict[str, str] = {
    "format": "format strings can reach attributes of their arguments; use an f-string",
    "format_map": "format strings can reach attributes of their arguments; use an f-string",
    "mro": "it exposes the class hierarchy",
}
_RESERVED_NAMES = frozenset({"print", "printed", "builtins", "breakpoint"})

_LINE_PREFIX = re.compile(r"^line (\d+): ")


class _SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy with plainer messages, a few more refusals and the size/time guards.

    Guard calls are injected after a node's children were visited, so RestrictedPython never sees
    (and never refuses) the ``_name_`` of a guard it did not put there itself.
    """

    expression = False

    def error(self, node: ast.AST, info: str) -> None:
        lineno = getattr(node, "lineno", None) or 1
        message = f"line {lineno}: {info.rstrip('.')}"
        if message not in self.errors:
            self.errors.append(message)

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is None:
            return
        if name.startswith("_") and name != "_":
            self.error(node, f"name '{name}' is not allowed: names starting with '_' are refused")
        elif name.endswith("__roles__"):
            self.error(node, f"name '{name}' is not allowed")
        elif name in _RESERVED_NAMES:
            self.error(node, f"name '{name}' is reserved")

    def visit_Name(self, node: ast.Name) -> Any:
        if self.expression and node.id in ("print", "printed"):
            # print() needs a collector that only scripts get; an expression has nothing to print to.
            self.error(node, "print() is not available in expressions")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if attr.startswith("_") and attr != "_":
            reason = "names starting with '_' are refused"
        elif attr in INSPECT_ATTRIBUTES:
            reason = "it exposes interpreter internals"
        elif attr in _REFUSED_ATTRIBUTES:
            reason = _REFUSED_ATTRIBUTES[attr]
        elif attr.endswith("__roles__"):
            reason = "it is reserved"
        else:
            return super().visit_Attribute(node)
        self.error(node, f"attribute '{attr}' is not allowed: {reason}")
        return self.node_contents_visit(node)  # still visit the children, to report every problem at once

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import is not allowed")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import is not allowed")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_With(self, node: ast.With) -> Any:
        # A context manager's __exit__ could run code after the deadline's exception, untraced.
        self.error(node, "'with' statements are not allowed")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        if node.finalbody:
            # A finally block runs after the deadline's exception; CPython has switched tracing off by then.
            self.error(node, "'finally' blocks are not allowed")
        return self.node_contents_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        node = super().visit_ExceptHandler(node)
        if node.type is None:
            # A bare except would catch the deadline's exception; Exception is what the author meant.
            node.type = ast.Name("_catchall_", ast.Load())
            copy_locations(node.type, node)
        # Catching an exception that CPython raised inside the tracer (RecursionError, MemoryError) means
        # tracing was switched off: re-arm it before any of the handler's code runs.
        rearm = ast.Expr(ast.Call(func=ast.Name("_rearm_", ast.Load()), args=[], keywords=[]))
        copy_locations(rearm, node)
        node.body.insert(0, rearm)
        return node

    def visit_While(self, node: ast.While) -> Any:
        node = self.node_contents_visit(node)
        # `while True: pass` compiles to one instruction jumping to itself, and CPython 3.11 reports no 'line'
        # event for such a jump: the tracer would never see the loop.  A name load at the top of the body makes
        # every iteration jump back over real instructions.
        marker = ast.Expr(ast.Name("_loop_", ast.Load()))
        copy_locations(marker, node.body[0])  # a stop in the marker reports the body's first line
        node.body.insert(0, marker)
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
            self.error(node, f"{node.func.id}() is not allowed")
            return self.node_contents_visit(node)
        return super().visit_Call(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)  # names become _inplacevar_ calls; attributes are refused
        if not (_is_pure(target.value) and _is_pure(target.slice)):
            self.error(
                node,
                "augmented assignment to an item of a computed object or key is not allowed; "
                "write x[k] = x[k] + ... instead",
            )
            return self.node_contents_visit(node)
        # d[k] += v  ->  _write_(d)[k] = _inplacevar_('+=', _getitem_(d, k), v).  RestrictedPython refuses it
        # outright; it is common in scripts, and evaluating a side-effect-free d and k twice changes nothing.
        load = ast.Subscript(value=copy.deepcopy(target.value), slice=copy.deepcopy(target.slice), ctx=ast.Load())
        copy_locations(load, target)
        store = self.visit(target)
        load = self.visit(load)
        value = self.visit(node.value)
        call = ast.Call(
            func=ast.Name("_inplacevar_", ast.Load()),
            args=[ast.Constant(IOPERATOR_TO_STR[type(node.op)]), load, value],
            keywords=[],
        )
        assign = ast.Assign(targets=[store], value=call)
        copy_locations(assign, node)
        return assign

    _BINOP_GUARDS: dict[type[ast.operator], str] = {
        ast.Pow: "_pow_",
        ast.Mult: "_mul_",
        ast.LShift: "_lshift_",
        ast.Add: "_add_",
        ast.Mod: "_mod_",
    }

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = self._BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        # f"{x:>{n}}": let _fmt_ check the (possibly computed) spec before format() pads to its width.
        call = ast.Call(
            func=ast.Name("_fmt_", ast.Load()),
            args=[node.value, ast.Constant(node.conversion), node.format_spec],
            keywords=[],
        )
        copy_locations(call, node)
        node.value, node.conversion, node.format_spec = call, -1, None
        return node


def _is_pure(node: ast.AST | None) -> bool:
    """Whether evaluating ``node`` twice is the same as once: names, constants and lookups on them."""
    if node is None or isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Subscript):
        return _is_pure(node.value) and _is_pure(node.slice)
    if isinstance(node, ast.Attribute):
        return _is_pure(node.value)
    if isinstance(node, ast.Tuple):
        return all(_is_pure(elt) for elt in node.elts)
    if isinstance(node, ast.Slice):
        return _is_pure(node.lower) and _is_pure(node.upper) and _is_pure(node.step)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and _is_pure(node.operand)
    return False


class _ExpressionPolicy(_SandboxPolicy):
    expression = True


class _CompileRefused(Exception):
    def __init__(self, message: str, syntax_error: SyntaxError) -> None:
        super().__init__(message)
        self.message = message
        self.syntax_error = syntax_error


@functools.lru_cache(maxsize=COMPILE_CACHE_SIZE)
def _compile_cached(source: str, mode: str) -> types.CodeType:
    # Conditions in BPMN XML often carry surrounding whitespace and scripts an indentation; neither means
    # anything, and eval-mode parsing would refuse a leading indent.
    text = source.strip() if mode == "eval" else textwrap.dedent(source)
    try:
        tree = ast.parse(text, SANDBOX_FILENAME, mode)
    except SyntaxError as err:
        raise _CompileRefused(f"syntax error on line {err.lineno}: {err.msg}", err) from None
    except (ValueError, RecursionError, MemoryError) as err:  # null bytes, absurd nesting
        raise _CompileRefused(f"code cannot be compiled: {err}", SyntaxError(str(err))) from None
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    policy = _ExpressionPolicy if mode == "eval" else _SandboxPolicy
    try:
        result = compiler(tree, SANDBOX_FILENAME, policy=policy)
    except (RecursionError, MemoryError) as err:
        raise _CompileRefused("code cannot be compiled: it is nested too deeply", SyntaxError(str(err))) from None
    if result.errors:
        first = _LINE_PREFIX.match(result.errors[0])
        lineno = int(first.group(1)) if first else 1
        lines = text.splitlines()
        problem = SyntaxError(
            result.errors[0], (SANDBOX_FILENAME, lineno, 1, lines[lineno - 1] if 0 < lineno <= len(lines) else "")
        )
        messages = []
        for error in result.errors:
            match = _LINE_PREFIX.match(error)
            messages.append(f"{error[match.end() :]} (line {match.group(1)})" if match else error)
        raise _CompileRefused("; ".join(messages), problem)
    assert result.code is not None
    return result.code


def _compile(source: str, mode: str, element_id: str | None) -> types.CodeType:
    if not isinstance(source, str):
        raise ScriptError(f"code must be a string, not {type(source).__name__}", element_id)
    try:
        return _compile_cached(source, mode)
    except _CompileRefused as refused:
        raise ScriptError(refused.message, element_id) from refused.syntax_error


def compile_expression(source: str, element_id: str | None = None) -> types.CodeType:
    """Compile an expression (condition, DMN cell, timer) for the sandbox; ``ScriptError`` says what is refused."""
    return _compile(source, "eval", element_id)


def compile_script(source: str, element_id: str | None = None) -> types.CodeType:
    """Compile a script task's body for the sandbox; ``ScriptError`` says what is refused."""
    return _compile(source, "exec", element_id)


# ---------------------------------------------------------------------------------------------------------
# Size guards: one C-level operation cannot be interrupted by the deadline, so enormous results are refused
# before they are computed.

_SIZED = (str, bytes, bytearray, list, tuple)


def _check_items(what: str, count: int) -> None:
    if count > MAX_ITEMS:
        raise _Refused(f"{what} refused: the result would have {count} items, more than the limit of {MAX_ITEMS}")


def _check_bits(what: str, bits: float) -> None:
    if bits > MAX_INT_BITS:
        raise _Refused(
            f"{what} refused: the result would have about {int(bits)} bits, more than the limit of {MAX_INT_BITS}"
        )


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SIZED) and isinstance(b, _SIZED):
        _check_items("'+'", len(a) + len(b))


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int):
        if isinstance(b, int):
            _check_bits("'*'", a.bit_length() + b.bit_length())
        elif isinstance(b, _SIZED) and a > 0:
            _check_items("'*'", len(b) * a)
    elif isinstance(b, int) and isinstance(a, _SIZED) and b > 0:
        _check_items("'*'", len(a) * b)


def _check_pow(base: Any, exp: Any, mod: Any = None) -> None:
    if not (isinstance(base, int) and isinstance(exp, int)) or exp <= 0:
        return  # floats overflow quickly on their own; negative exponents give floats
    if mod is None:
        if abs(base) > 1:
            _check_bits("'**'", exp * math.log2(abs(base)))
    elif isinstance(mod, int):
        _check_bits("pow()", max(base.bit_length(), exp.bit_length(), mod.bit_length()))


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _check_bits("'<<'", a.bit_length() + b)


# A %-conversion's width and precision: "%(name)-10.3f", "%*d".
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _check_width(what: str, digits: str) -> None:
    if len(digits) > 9 or int(digits) > MAX_FORMAT_WIDTH:
        raise _Refused(f"{what} refused: width or precision {digits} is more than the limit of {MAX_FORMAT_WIDTH}")


def _check_mod(a: Any, b: Any) -> None:
    if isinstance(a, (bytes, bytearray)):
        a = a.decode("latin-1")
    if not isinstance(a, str) or "%" not in a:
        return
    for match in _PERCENT_SPEC.finditer(a):
        for part in match.groups():
            if part == "*":
                raise _Refused("'%' formatting refused: '*' widths are not allowed; write the width in the format")
            if part:
                _check_width("'%' formatting", part)


def _guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    _check_pow(base, exp, mod)
    return base**exp if mod is None else pow(base, exp, mod)


def _guarded_mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def _guarded_lshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return a << b


def _guarded_add(a: Any, b: Any) -> Any:
    if isinstance(a, _SIZED) and isinstance(b, _SIZED):
        _check_items("'+'", len(a) + len(b))
    return a + b


def _guarded_mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes)):
        _check_mod(a, b)
    return a % b


def _guarded_format(value: Any, conversion: int, spec: str) -> str:
    if conversion == 115:  # !s
        value = str(value)
    elif conversion == 114:  # !r
        value = repr(value)
    elif conversion == 97:  # !a
        value = ascii(value)
    for digits in _DIGITS.findall(spec):
        _check_width("format spec", digits)
    return format(value, spec)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}
_INPLACE_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "+=": _check_add,
    "*=": _check_mul,
    "**=": _check_pow,
    "<<=": _check_lshift,
    "%=": _check_mod,
}


def _guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """``x op= y`` for plain names (RestrictedPython refuses it on items and attributes)."""
    check = _INPLACE_CHECKS.get(op)
    if check is not None:
        check(target, value)
    return _INPLACE[op](target, value)


def _guarded_range(*args: Any) -> range:
    # range() itself is lazy, but sum()/list()/sorted() consume it in C, out of the deadline's reach.
    result = range(*args)
    try:
        count = len(result)
    except OverflowError:
        count = sys.maxsize
    _check_items("range()", count)
    return result


def _guarded_sum(iterable: Any, /, start: Any = 0) -> Any:
    # sum(lists, []) concatenates in C, quadratically and beyond the deadline's reach: add up step by step.
    if isinstance(start, _SIZED):
        result = start
        for item in iterable:
            result = _guarded_add(result, item)
        return result
    return sum(iterable, start)


# Methods whose result size is a product of their inputs or an unbounded int argument.  Each guard gets the
# real (bound) method and the arguments.


def _pad_guard(method: Callable[..., Any], width: Any = 0, *args: Any, **kwargs: Any) -> Any:
    if isinstance(width, int):
        _check_items(f"{method.__name__}()", width)
    return method(width, *args, **kwargs)


def _expandtabs_guard(method: Callable[..., Any], tabsize: Any = 8, **kwargs: Any) -> Any:
    text = method.__self__
    if isinstance(tabsize, int) and isinstance(text, _SIZED):
        tab = "\t" if isinstance(text, str) else b"\t"
        _check_items("expandtabs()", len(text) + text.count(tab) * tabsize)
    return method(tabsize, **kwargs)


def _replace_guard(method: Callable[..., Any], old: Any, new: Any, count: Any = -1, *args: Any) -> Any:
    text = method.__self__
    if isinstance(old, type(text)) and isinstance(new, type(text)):
        hits = len(text) + 1 if not old else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _check_items("replace()", len(text) + hits * max(len(new) - len(old), 0))
    return method(old, new, count, *args)


def _join_guard(method: Callable[..., Any], iterable: Any) -> Any:
    parts = list(iterable)
    separator = method.__self__
    total = len(separator) * max(len(parts) - 1, 0) + sum(len(p) for p in parts if isinstance(p, _SIZED))
    _check_items("join()", total)
    return method(parts)


def _translate_guard(method: Callable[..., Any], table: Any) -> Any:
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, _SIZED)), default=1)
        _check_items("translate()", len(method.__self__) * longest)
    return method(table)


def _extend_guard(method: Callable[..., Any], iterable: Any) -> Any:
    if isinstance(iterable, _SIZED):
        _check_items("extend()", len(method.__self__) + len(iterable))
    return method(iterable)


def _to_bytes_guard(method: Callable[..., Any], length: Any = 1, *args: Any, **kwargs: Any) -> Any:
    if isinstance(length, int):
        _check_items("to_bytes()", length)
    return method(length, *args, **kwargs)


def _from_bytes_guard(method: Callable[..., Any], data: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(data, _SIZED):
        _check_bits("int.from_bytes()", len(data) * 8)
    return method(data, *args, **kwargs)


_METHOD_GUARDS: dict[str, tuple[tuple[type, ...], Callable[..., Any]]] = {
    "ljust": ((str, bytes), _pad_guard),
    "rjust": ((str, bytes), _pad_guard),
    "center": ((str, bytes), _pad_guard),
    "zfill": ((str, bytes), _pad_guard),
    "expandtabs": ((str, bytes), _expandtabs_guard),
    "replace": ((str, bytes), _replace_guard),
    "join": ((str, bytes), _join_guard),
    "translate": ((str, bytes), _translate_guard),
    "extend": ((list,), _extend_guard),
    "to_bytes": ((int,), _to_bytes_guard),
    "from_bytes": ((int,), _from_bytes_guard),
}


def _unbound_guard(guard: Callable[..., Any], method: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    """``str.ljust(s, n)``: bind the method to ``self`` and guard it like ``s.ljust(n)``."""
    return guard(types.MethodType(method, self), *args, **kwargs)


def _guarded_getattr(obj: Any, name: str) -> Any:
    """Attribute access of sandboxed code (``a.b`` becomes ``_getattr_(a, 'b')``).

    Compile time already refuses these names (there is no getattr() with a computed name); this is the
    second line, built on RestrictedPython's ``safer_getattr`` (which also refuses ``str.format``).
    """
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in INSPECT_ATTRIBUTES or name in _REFUSED_ATTRIBUTES:
        raise _Refused(f"attribute '{name}' is not allowed")
    value = safer_getattr(obj, name, raise_)
    guarded = _METHOD_GUARDS.get(name)
    if guarded is not None:
        kinds, guard = guarded
        if isinstance(obj, kinds):
            return functools.partial(guard, value)
        if isinstance(obj, type) and issubclass(obj, kinds):
            if name == "from_bytes":  # a classmethod: already bound to the class
                return functools.partial(guard, value)
            return functools.partial(_unbound_guard, guard, value)
    return value


class _ListWriter:
    """What ``_write_`` hands out for a list: item writes pass, slice writes are size-checked."""

    __slots__ = ("_target",)

    def __init__(self, target: list[Any]) -> None:
        object.__setattr__(self, "_target", target)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice) and isinstance(value, _SIZED):
            _check_items("slice assignment", len(self._target) + len(value))
        self._target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._target[key]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'list' object attribute '{name}' is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"'list' object attribute '{name}' is read-only")


def _guarded_write(obj: Any) -> Any:
    """Target of ``x[k] = v`` / ``x.a = v``: task data (dicts, lists) is writable, nothing else is."""
    kind = type(obj)
    if kind is dict:
        return obj
    if kind is list:
        return _ListWriter(obj)
    return full_write_guard(obj)  # a proxy whose writes raise TypeError


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``f(*a, **kw)``: RestrictedPython routes star-calls through ``_apply_``."""
    return func(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------
# The names sandboxed code sees


class _ReadOnlyNamespace:
    """A module-like bag of harmless functions; cannot be changed from sandboxed code."""

    __slots__ = ("_label", "_members")

    def __init__(self, label: str, members: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_members", types.MappingProxyType(dict(members)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._members[name]
        except KeyError:
            raise AttributeError(f"{self._label} has no attribute '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._label} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._label} is read-only")

    def __repr__(self) -> str:
        return f"<{self._label}>"


# Float functions only: factorial/comb/perm/prod/lcm could build enormous ints in one C call.
_MATH = _ReadOnlyNamespace(
    "math",
    {
        name: getattr(math, name)
        for name in (
            "ceil",
            "floor",
            "trunc",
            "sqrt",
            "exp",
            "log",
            "log2",
            "log10",
            "fabs",
            "fsum",
            "isclose",
            "isfinite",
            "isinf",
            "isnan",
            "copysign",
            "hypot",
            "gcd",
            "isqrt",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "atan",
            "atan2",
            "degrees",
            "radians",
            "pi",
            "e",
            "tau",
            "inf",
            "nan",
        )
    },
)

#: Helper names the code may use; task data with the same name shadows them (a form field called ``date``).
#: Decimal is deliberately absent: int(Decimal('1e1000000')) runs for half a minute in one C call.
_HELPERS: dict[str, Any] = {
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "math": _MATH,
}
HELPERS: Mapping[str, Any] = types.MappingProxyType(_HELPERS)

_BUILTINS: dict[str, Any] = {
    name: value
    for name, value in safe_builtins.items()
    if name
    not in {
        "__build_class__",  # classes are refused
        "_getattr_",  # our guard lives in the globals
        "setattr",
        "delattr",
        "id",  # memory addresses are nobody's business
        "pow",  # replaced by the guarded one
        # Exceptions that are not Exceptions would let code escape `except Exception` handling (ours and
        # SpiffWorkflow's) and, caught, would catch the deadline's exception.
        "BaseException",
        "SystemExit",
        "KeyboardInterrupt",
        "GeneratorExit",
    }
}
_BUILTINS.update(
    {
        "pow": _guarded_pow,
        "range": _guarded_range,
        "RecursionError": RecursionError,
        "len": len,
        "min": min,
        "max": max,
        "sum": _guarded_sum,
        "any": any,
        "all": all,
        "sorted": sorted,
        "reversed": reversed,
        "list": list,
        "dict": dict,
        "set": set,
        "frozenset": frozenset,
        "tuple": tuple,
        "enumerate": enumerate,
        "zip": zip,
        "map": map,
        "filter": filter,
    }
)

# Builtins that are missing on purpose; a NameError for one of them says so.
_UNAVAILABLE = frozenset(
    {
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "vars",
        "dir",
        "globals",
        "locals",
        "open",
        "eval",
        "exec",
        "compile",
        "__import__",
        "breakpoint",
        "input",
        "help",
        "memoryview",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "bytes",
        "bytearray",
        "iter",
        "next",
        "id",
        "exit",
        "quit",
    }
)


def _rearm() -> None:
    """Called first thing in every ``except`` block of sandboxed code (injected at compile time).

    If CPython raised inside the tracer (RecursionError near the recursion limit, MemoryError), it switched
    tracing off; the handler could then loop forever unobserved.  Put the tracer back first.
    """
    run = getattr(_current, "run", None)
    if run is None:
        return
    global_trace, local_trace, deadline = run
    if sys.gettrace() is not global_trace:
        sys.settrace(global_trace)
    sys._getframe(1).f_trace = local_trace
    if _monotonic() > deadline:
        raise _TimeLimitExceeded


_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _guarded_write,
    "_inplacevar_": _guarded_inplacevar,
    "_apply_": _apply,
    "_print_": PrintCollector,
    "_pow_": _guarded_pow,
    "_mul_": _guarded_mul,
    "_lshift_": _guarded_lshift,
    "_add_": _guarded_add,
    "_mod_": _guarded_mod,
    "_fmt_": _guarded_format,
    "_catchall_": Exception,
    "_loop_": None,
    "_rearm_": _rearm,
}
# Names the run leaves in a script's namespace that are not the script's variables.
_NOT_VARIABLES = frozenset(_GUARDS) | {"_print"}


# ---------------------------------------------------------------------------------------------------------
# Running

_current = threading.local()  # the deadline of the run in progress on this thread, for _rearm


def _run(code: types.CodeType, namespace: dict[str, Any], time_limit: float) -> Any:
    """Run ``code`` under a deadline; sys.settrace is per thread, so concurrent requests do not interfere."""
    deadline = _monotonic() + time_limit
    previous = sys.gettrace()

    def local_trace(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line" and _monotonic() > deadline:
            raise _TimeLimitExceeded
        return local_trace

    def global_trace(frame: types.FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == SANDBOX_FILENAME:
            if _monotonic() > deadline:
                raise _TimeLimitExceeded
            return local_trace
        # Our own guards and everything else: whatever tracer was there before (coverage, a debugger).
        return previous(frame, event, arg) if previous is not None else None

    outer_run = getattr(_current, "run", None)
    _current.run = (global_trace, local_trace, deadline)
    sys.settrace(global_trace)
    try:
        return eval(code, namespace)  # exec-mode code objects run (and return None) through eval as well
    finally:
        sys.settrace(previous)
        _current.run = outer_run


def _sandbox_line(exc: BaseException | None) -> int | None:
    """The line of sandboxed code where ``exc`` was raised, from its traceback."""
    if isinstance(exc, SyntaxError) and exc.filename == SANDBOX_FILENAME:
        return exc.lineno
    line = None
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SANDBOX_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def error_line(error: BaseException) -> int | None:
    """Line (1-based) of the process owner's code a ``ScriptError`` from this module is about, if known."""
    for exc in (error, error.__cause__, error.__context__):
        line = _sandbox_line(exc)
        if line is not None:
            return line
    return None


def _describe(exc: Exception) -> str:
    text = str(exc)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, NameError) and getattr(exc, "name", None) in _UNAVAILABLE:
        message += f" ({exc.name}() is not available in process code)"
    return message


def _run_guarded(
    code: types.CodeType, namespace: dict[str, Any], element_id: str | None, time_limit: float | None, what: str
) -> Any:
    limit = TIME_LIMIT if time_limit is None else time_limit
    where = ""
    try:
        return _run(code, namespace, limit)
    except _TimeLimitExceeded as exc:
        if what == "script" and (line := _sandbox_line(exc)):
            where = f" (line {line})"
        raise ScriptError(f"{what} exceeded the time limit of {limit} s{where}", element_id) from None
    except _Refused as exc:
        if what == "script" and (line := _sandbox_line(exc)):
            where = f" (line {line})"
        raise ScriptError(f"{exc.message}{where}", element_id) from None
    except Exception as exc:
        if what == "script" and (line := _sandbox_line(exc)):
            where = f" (line {line})"
        raise ScriptError(f"{_describe(exc)}{where}", element_id) from exc


def _namespace(namespace: Mapping[str, Any], outer: Mapping[str, Any] | None) -> dict[str, Any]:
    # Order matters: helpers < outer names < task data < guards.  Data shadows helpers the way a local shadows
    # a builtin; nothing shadows the guards (a task variable called "_getattr_" must not replace the guard).
    if outer:
        return {**_HELPERS, **outer, **namespace, **_GUARDS}
    return {**_HELPERS, **namespace, **_GUARDS}


def evaluate(
    source: str,
    namespace: Mapping[str, Any],
    element_id: str | None = None,
    *,
    outer: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
) -> Any:
    """Value of the expression ``source`` with the variables in ``namespace`` (not changed).

    ``outer`` holds further names (SpiffWorkflow's external context), shadowed by ``namespace``.
    Raises ``ScriptError`` naming ``element_id`` for refused code, errors, and the time limit.
    """
    code = compile_expression(source, element_id)
    result = _run_guarded(code, _namespace(namespace, outer), element_id, time_limit, "expression")
    if isinstance(result, (types.GeneratorType, types.FunctionType)):
        # Its code would run later, outside the deadline; and it is no value to branch on or to store.
        raise ScriptError(f"expression produced a {type(result).__name__}, not a value", element_id)
    return result


def _is_data(value: Any) -> bool:
    return not (callable(value) or isinstance(value, (types.ModuleType, _ReadOnlyNamespace)))


def execute(
    source: str,
    namespace: MutableMapping[str, Any],
    element_id: str | None = None,
    *,
    outer: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
) -> None:
    """Run the script ``source``; afterwards ``namespace`` holds its new and changed variables.

    Like SpiffWorkflow's ``TaskDataEnvironment``: functions the script defines, helpers and ``outer`` names
    are not copied back, deleted variables are removed.  Unlike it, a failing script leaves ``namespace``
    as it was (apart from objects it changed in place).  Raises ``ScriptError`` naming ``element_id``.
    """
    code = compile_script(source, element_id)
    run_namespace = _namespace(namespace, outer)
    _run_guarded(code, run_namespace, element_id, time_limit, "script")

    collector = run_namespace.get("_print")
    if isinstance(collector, PrintCollector) and collector.txt:
        logger.debug("print() output of %s: %s", element_id or "a script", collector().rstrip())

    changes: dict[str, Any] = {}
    for name, value in run_namespace.items():
        if name in _NOT_VARIABLES or name in namespace and namespace[name] is value:
            continue
        if name not in namespace and (
            (outer is not None and name in outer) or (name in _HELPERS and _HELPERS[name] is value)
        ):
            continue
        if isinstance(value, types.GeneratorType):
            raise ScriptError(
                f"variable '{name}' holds a generator, which cannot be kept in task data; make it a list",
                element_id,
            )
        if _is_data(value):
            changes[name] = value
    for name in [n for n in namespace if n not in _NOT_VARIABLES]:
        if name not in run_namespace or not _is_data(run_namespace[name]):
            del namespace[name]  # deleted by the script (`del x`), or rebound to a function
    namespace.update(changes)
