"""form-js `validate.pattern` regexes, compiled only when they cannot backtrack catastrophically."""
from __future__ import annotations

import functools
import re

MAX_PATTERN = 500
MAX_SUBJECT = 10_000
_QUANT = re.compile(r"(?<!\\)(?:[*+?]|\{\d+(?:,\d*)?\})")


class PatternError(ValueError):
    """A pattern this engine refuses to run."""


def _nested_quantifier(pattern: str) -> bool:
    """True when a quantified group itself holds a quantifier: (a+)+, (a|b*)* ... the ReDoS shapes."""
    stack: list[bool] = []  # per open group: does it contain a quantifier?
    i, escaped, in_class = 0, False, False
    while i < len(pattern):
        ch = pattern[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            inner = stack.pop()
            following = _QUANT.match(pattern, i + 1)
            if inner and following:
                return True
            if stack and (inner or following):
                stack[-1] = True
        elif ch in "*+?{" and stack and _QUANT.match(pattern, i):
            stack[-1] = True
        i += 1
    return False


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: object) -> re.Pattern[str]:
    """The JavaScript-style pattern as a Python regex; PatternError for what could hang or does not translate."""
    if not isinstance(pattern, str):
        raise PatternError("must be a string")
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"is longer than {MAX_PATTERN} characters")
    if re.search(r"\\[1-9]|\\k<|\(\?<[=!]", pattern):
        raise PatternError("uses a back-reference or look-behind, which is not supported")
    if _nested_quantifier(pattern):
        raise PatternError("nests quantifiers (like (a+)+), which can take exponential time; simplify it")
    try:
        return re.compile(pattern.replace("(?<", "(?P<"), re.ASCII)
    except re.error as exc:
        raise PatternError(f"is not a valid regular expression ({exc})") from None


def matches(pattern: str, value: str) -> bool:
    """JavaScript RegExp.test semantics: a match anywhere unless the pattern anchors itself."""
    return compile_pattern(pattern).search(value[:MAX_SUBJECT]) is not None
