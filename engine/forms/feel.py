"""A small, safe FEEL evaluator for form-js ``conditional.hide`` expressions.

The subset: an optional leading ``=``; literals (``"strings"`` with ``\\"``, ``\\\\``, ``\\n``, ``\\t``,
``\\r``, ``\\'`` and ``\\uXXXX`` escapes, numbers, ``true``, ``false``, ``null``); names, looked up in the
variables (a missing name is null; Unicode letters, digits and ``_``, e.g. ``lēmums``); paths ``a.b``
into nested objects (null when a step is missing or not an object); comparisons ``=`` ``!=`` ``<``
``<=`` ``>`` ``>=``; ``and``, ``or``; ``not(expr)``; unary ``-``; parentheses.

FEEL's null and three-valued logic, as feelin (form-js's FEEL engine) does them:

- ``=`` always answers true or false: ``null = null`` is true, ``x = null`` is true when ``x`` is missing or
  None, values of different kinds are not equal (``1 = "1"`` is false; ``true = 1`` is false); ``!=`` is the
  negation of ``=``.
- ``<`` ``<=`` ``>`` ``>=`` compare two numbers or two strings; anything else (null included) gives null.
- ``and``/``or``/``not`` take booleans; any other operand counts as null: ``false and null`` is false,
  ``true and null`` null, ``true or null`` true, ``false or null`` null, ``not(null)`` null.

Nothing is ever executed: expressions are parsed into a tree and walked. A syntax error, or a FEEL
construct outside the subset, raises ``FeelError`` naming the expression and the position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.forms.errors import FormError

KEYWORDS = frozenset({"true", "false", "null", "and", "or", "not"})
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class FeelError(FormError):
    """An expression outside the supported FEEL subset; ``position`` is 1-based, in the expression as given."""

    def __init__(self, what: str, expression: str, position: int) -> None:
        self.expression = expression
        self.position = position
        super().__init__(f"{what} at position {position} in {expression!r}")


def evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    """The value of a FEEL expression (with or without its leading ``=``) over ``variables``."""
    return _evaluate(compile_expression(expression), variables)


def is_true(expression: str, variables: Mapping[str, Any]) -> bool:
    """True only when the expression's value is the boolean true (null and non-booleans count as false)."""
    return evaluate(expression, variables) is True


@lru_cache(maxsize=1024)
def compile_expression(expression: str) -> Node:
    """Parse an expression into its tree (cached); raises ``FeelError`` for a syntax error."""
    if not isinstance(expression, str):
        raise FeelError(f"expected a string, not {type(expression).__name__}", repr(expression), 1)
    offset = 1 if expression.startswith("=") else 0
    parser = _Parser(expression, _tokenize(expression, offset))
    return parser.parse()


# --- tree ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    kind: str  # literal, path, compare, and, or, not, negate
    value: Any = None  # the literal; the path's names; the comparison operator
    operands: tuple[Node, ...] = ()


# --- tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, op, (, ), ., -, end
    text: str
    value: Any
    position: int  # 1-based


def _tokenize(expression: str, start: int) -> list[_Token]:
    tokens: list[_Token] = []
    index = start
    length = len(expression)
    while index < length:
        char = expression[index]
        position = index + 1
        if char.isspace():
            index += 1
        elif char == '"':
            value, index = _read_string(expression, index)
            tokens.append(_Token("string", expression[position - 1 : index], value, position))
        elif char.isdigit() or (char == "." and index + 1 < length and expression[index + 1].isdigit()):
            end = index
            while end < length and expression[end].isdigit():
                end += 1
            if end < length and expression[end] == "." and end + 1 < length and expression[end + 1].isdigit():
                end += 1
                while end < length and expression[end].isdigit():
                    end += 1
            text = expression[index:end]
            if end < length and (expression[end].isalpha() or expression[end] == "_"):
                raise FeelError(f"unexpected {expression[end]!r} after the number {text}", expression, end + 1)
            tokens.append(_Token("number", text, float(text) if "." in text else int(text), position))
            index = end
        elif char.isalpha() or char == "_":
            end = index
            while end < length and (expression[end].isalnum() or expression[end] == "_"):
                end += 1
            text = expression[index:end]
            tokens.append(_Token("name", text, text, position))
            index = end
        elif expression.startswith(("!=", "<=", ">="), index):
            tokens.append(_Token("op", expression[index : index + 2], None, position))
            index += 2
        elif char in "=<>":
            tokens.append(_Token("op", char, None, position))
            index += 1
        elif char in "().-":
            tokens.append(_Token(char, char, None, position))
            index += 1
        else:
            raise FeelError(f"unexpected character {char!r}", expression, position)
    tokens.append(_Token("end", "", None, length + 1))
    return tokens


def _read_string(expression: str, index: int) -> tuple[str, int]:
    """Read the string literal starting at ``expression[index]`` (a quote); answer its value and the index after it."""
    start = index
    index += 1
    parts: list[str] = []
    while index < len(expression):
        char = expression[index]
        if char == '"':
            return "".join(parts), index + 1
        if char == "\\":
            escape = expression[index + 1 : index + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                index += 2
                continue
            if escape == "u":
                digits = expression[index + 2 : index + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    parts.append(chr(int(digits, 16)))
                    index += 6
                    continue
            raise FeelError(f"unknown escape \\{escape} in a string", expression, index + 1)
        parts.append(char)
        index += 1
    raise FeelError("unterminated string", expression, start + 1)


# --- parser -------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent: or < and < comparison < unary minus < primary."""

    def __init__(self, expression: str, tokens: list[_Token]) -> None:
        self.expression = expression
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, what: str, token: _Token | None = None) -> FeelError:
        token = token or self.current
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        return FeelError(f"{what}, found {found}", self.expression, token.position)

    def is_keyword(self, word: str) -> bool:
        return self.current.kind == "name" and self.current.text == word

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.error("expected an expression")
        node = self.disjunction()
        if self.current.kind != "end":
            raise self.error("expected an operator (=, !=, <, <=, >, >=, and, or) or the end")
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.is_keyword("or"):
            self.advance()
            node = Node("or", operands=(node, self.conjunction()))
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.is_keyword("and"):
            self.advance()
            node = Node("and", operands=(node, self.comparison()))
        return node

    def comparison(self) -> Node:
        node = self.unary()
        if self.current.kind == "op":
            operator = self.advance().text
            node = Node("compare", operator, (node, self.unary()))
            if self.current.kind == "op":
                raise self.error("comparisons cannot be chained; join them with and")
        return node

    def unary(self) -> Node:
        if self.current.kind == "-":
            self.advance()
            return Node("negate", operands=(self.unary(),))
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind in ("number", "string"):
            self.advance()
            return Node("literal", token.value)
        if token.kind == "(":
            self.advance()
            node = self.disjunction()
            self.expect(")", "expected ')'")
            return node
        if token.kind == "name":
            if token.text in ("true", "false", "null"):
                self.advance()
                return Node("literal", {"true": True, "false": False, "null": None}[token.text])
            if token.text == "not":
                self.advance()
                self.expect("(", "expected '(' after not")
                node = self.disjunction()
                self.expect(")", "expected ')' closing not(")
                return Node("not", operands=(node,))
            if token.text in KEYWORDS:
                raise self.error("expected a value")
            return self.path()
        raise self.error("expected a value (a name, a string, a number, true, false, null, not(...) or '(')")

    def path(self) -> Node:
        names = [self.advance().text]
        while self.current.kind == ".":
            self.advance()
            if self.current.kind != "name" or self.current.text in KEYWORDS:
                raise self.error("expected a name after '.'")
            names.append(self.advance().text)
        if self.current.kind == "(":
            raise self.error(f"function calls are not supported (only not(...)): {names[-1]}")
        return Node("path", tuple(names))

    def expect(self, kind: str, what: str) -> None:
        if self.current.kind != kind:
            raise self.error(what)
        self.advance()


# --- evaluation ---------------------------------------------------------------------------------------


def _evaluate(node: Node, variables: Mapping[str, Any]) -> Any:
    kind = node.kind
    if kind == "literal":
        return node.value
    if kind == "path":
        value: Any = variables
        for name in node.value:
            if not isinstance(value, Mapping):
                return None
            value = value.get(name)
        return value
    if kind == "compare":
        left, right = (_evaluate(operand, variables) for operand in node.operands)
        return _compare(node.value, left, right)
    if kind == "and":
        left, right = (_boolean(_evaluate(operand, variables)) for operand in node.operands)
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if kind == "or":
        left, right = (_boolean(_evaluate(operand, variables)) for operand in node.operands)
        if left is True or right is True:
            return True
        return False if left is False and right is False else None
    if kind == "not":
        value = _boolean(_evaluate(node.operands[0], variables))
        return None if value is None else not value
    if kind == "negate":
        value = _evaluate(node.operands[0], variables)
        return -value if _is_number(value) else None
    raise AssertionError(f"unknown node {kind}")


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if _is_number(value):
        return "number"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "context"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if _kind(left) != _kind(right):
        return False
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping):
        return left.keys() == right.keys() and all(_equal(left[name], right[name]) for name in left)
    return left == right


def _compare(operator: str, left: Any, right: Any) -> bool | None:
    if operator == "=":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)
    kind = _kind(left)
    if left is None or right is None or kind != _kind(right) or kind not in ("number", "string"):
        return None
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    return left >= right
