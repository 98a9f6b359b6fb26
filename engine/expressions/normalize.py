"""Camunda compatibility: `${...}` JUEL wrappers and operators, and unquoted ISO 8601 timer literals."""
from __future__ import annotations

import re

_NUM = r"\d+(?:[.,]\d+)?"
_DUR = rf"P(?=[\dT])(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
_DT = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_ISO = re.compile(rf"(?:{_DUR}|{_DT})|R\d*/(?:{_DUR}|{_DT})(?:/(?:{_DUR}|{_DT}))?")
_WRAPPED = re.compile(r"[$#]\{(.*)\}", re.S)
_STRING = re.compile(r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""", re.S)
_JUEL_TOKEN = re.compile(r"&&|\|\||!(?!=)|\b(?:eq|ne|lt|gt|le|ge|empty|div|mod)\b")
_JUEL = {"&&": "and", "||": "or", "!": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
         "ge": ">=", "empty": "not", "div": "/", "mod": "%"}


def _translate_juel(code: str) -> str:
    parts = _STRING.split(code)  # odd indices are string literals, left untouched
    for i in range(0, len(parts), 2):
        parts[i] = _JUEL_TOKEN.sub(lambda m: f" {_JUEL[m.group(0)]} ", parts[i])
    return "".join(parts).strip()


def normalize(text: str) -> str:
    """Strip a `${...}`/`#{...}` wrapper (translating JUEL), and quote a bare ISO 8601 literal."""
    stripped = text.strip()
    wrapped = _WRAPPED.fullmatch(stripped)
    if wrapped:
        stripped = _translate_juel(wrapped.group(1).strip())
    return repr(stripped) if _ISO.fullmatch(stripped) else stripped
