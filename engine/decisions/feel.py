"""Parse the S-FEEL subset DMN tables use (expressions and unary tests) into small trees; no eval anywhere.

Supported: number, string, true/false/null literals; names and dotted paths (dictionary keys only);
+ - * / ** (bounded), comparisons < <= > >= = !=, and/or, if-then-else. Unary tests: `-`, comparisons,
intervals [a..b] ]a..b[ (a..b), lists `a, b`, `not(...)`, `null`. Everything else is a FeelError naming it.
"""
from __future__ import annotations

import re
from typing import Any

MAX_TEXT = 2_000
MAX_NODES = 300
MAX_DEPTH = 40
_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\.|<=|>=|!=|\*\*|[<>=+\-*/()\[\],.])
)""", re.X)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "if", "then", "else"}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


class FeelError(ValueError):
    """A cell this engine cannot run: unsupported FEEL, a syntax error, or something unsafe."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    if len(text) > MAX_TEXT:
        raise FeelError(f"the expression is longer than {MAX_TEXT} characters")
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            shown = text[pos:].strip()[:20]
            raise FeelError(f"'{shown}' is not supported FEEL here")
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "number":
            value = float(value) if "." in value else int(value)
        elif kind == "string":
            value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), value[1:-1])
        elif kind == "name" and value in _KEYWORDS:
            kind = "kw"
        elif kind == "name" and value.startswith("__"):
            raise FeelError(f"names starting with __ are not allowed ({value})")
        out.append((kind, value))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.nodes = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> tuple[str, Any]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("end", None)

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Any) -> None:
        if not self.accept(kind, value):
            raise FeelError(f"expected '{value}' but found {self._shown(self.peek())}")

    @staticmethod
    def _shown(tok: tuple[str, Any]) -> str:
        return "the end" if tok[0] == "end" else f"'{tok[1]}'"

    def node(self, *parts: Any) -> tuple[Any, ...]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FeelError(f"the expression has more than {MAX_NODES} parts")
        return parts

    def done(self) -> None:
        if self.peek()[0] != "end":
            raise FeelError(f"unexpected {self._shown(self.peek())}")

    # expressions ---------------------------------------------------------------------------------
    def expression(self) -> tuple[Any, ...]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FeelError(f"the expression is nested more than {MAX_DEPTH} deep")
        try:
            if self.accept("kw", "if"):
                cond = self.expression()
                self.expect("kw", "then")
                then = self.expression()
                self.expect("kw", "else")
                return self.node("if", cond, then, self.expression())
            return self.disjunction()
        finally:
            self.depth -= 1

    def disjunction(self) -> tuple[Any, ...]:
        left = self.conjunction()
        while self.accept("kw", "or"):
            left = self.node("or", left, self.conjunction())
        return left

    def conjunction(self) -> tuple[Any, ...]:
        left = self.comparison()
        while self.accept("kw", "and"):
            left = self.node("and", left, self.comparison())
        return left

    def comparison(self) -> tuple[Any, ...]:
        left = self.sum()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("<", "<=", ">", ">=", "=", "!="):
            self.take()
            return self.node("cmp", tok[1], left, self.sum())
        return left

    def sum(self) -> tuple[Any, ...]:
        left = self.product()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            left = self.node("bin", self.take()[1], left, self.product())
        return left

    def product(self) -> tuple[Any, ...]:
        left = self.power()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            left = self.node("bin", self.take()[1], left, self.power())
        return left

    def power(self) -> tuple[Any, ...]:
        left = self.unary()
        if self.accept("op", "**"):
            return self.node("bin", "**", left, self.unary())
        return left

    def unary(self) -> tuple[Any, ...]:
        if self.accept("op", "-"):
            return self.node("neg", self.unary())
        node = self.primary()
        while self.accept("op", "."):
            kind, key = self.take()
            if kind != "name":
                raise FeelError("a path needs a name after '.'")
            node = self.node("path", node, key)
        return node

    def primary(self) -> tuple[Any, ...]:
        kind, value = self.take()
        if kind in ("number", "string"):
            return self.node("lit", value)
        if kind == "kw" and value in ("true", "false", "null"):
            return self.node("lit", {"true": True, "false": False, "null": None}[value])
        if kind == "name":
            if self.peek() == ("op", "("):
                raise FeelError(f"function calls are not supported ({value}(...))")
            return self.node("name", value)
        if (kind, value) == ("op", "("):
            inner = self.expression()
            self.expect("op", ")")
            return inner
        raise FeelError(f"unexpected {self._shown((kind, value))}")

    # unary tests ----------------------------------------------------------------------------------
    def unary_tests(self) -> tuple[Any, ...]:
        if self.peek()[0] == "end" or (self.peek() == ("op", "-") and self.peek(1)[0] == "end"):
            self.i = len(self.toks)
            return self.node("any")
        if self.peek() == ("kw", "not") and self.peek(1) == ("op", "("):
            self.i += 2
            inner = self.positive_list()
            self.expect("op", ")")
            return self.node("not", inner)
        return self.positive_list()

    def positive_list(self) -> tuple[Any, ...]:
        tests = [self.positive()]
        while self.accept("op", ","):
            tests.append(self.positive())
        return self.node("anyof", tuple(tests))

    def positive(self) -> tuple[Any, ...]:
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("<", "<=", ">", ">=", "=", "!="):
            self.take()
            return self.node("test", tok[1], self.sum())
        if tok[0] == "op" and tok[1] in ("[", "]", "("):
            self.take()
            low = self.sum()
            self.expect("op", "..")
            high = self.sum()
            close = self.take()
            if close[0] != "op" or close[1] not in ("]", "[", ")"):
                raise FeelError(f"an interval ends with ], [ or ), not {self._shown(close)}")
            return self.node("range", tok[1] == "[", low, high, close[1] == "]")
        return self.node("test", "=", self.sum())


def parse_expression(text: str) -> tuple[Any, ...]:
    """An input expression, output entry or literal expression; empty text is null."""
    parser = _Parser(text)
    if parser.peek()[0] == "end":
        return ("lit", None)
    tree = parser.expression()
    parser.done()
    return tree


def parse_unary_tests(text: str) -> tuple[Any, ...]:
    """An input entry: tests the input value is matched against."""
    parser = _Parser(text)
    tree = parser.unary_tests()
    parser.done()
    return tree
