"""Reading a scenario file (YAML or JSON) into plain values that remember the line each one came from.

A designer's mistake must be reported at its line, so mappings and lists carry `line` and the lines of
their keys and items. The YAML is read safely: no tags beyond the core schema, no anchors or aliases (no
"billion laughs"), duplicate keys refused, dates and times kept as text, and a size cap before parsing.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, SequenceNode

from engine.errors import Invalid, Problem

MAX_BYTES = 512 * 1024


class LDict(dict[str, Any]):
    """A mapping with the line it starts on and the line of each key (1-based)."""

    line: int | None = None
    key_lines: dict[str, int]


class LList(list[Any]):
    """A list with the line it starts on and the line of each item (1-based)."""

    line: int | None = None
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases, with timestamps as text, and line-aware containers."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "anchors and aliases are not allowed in a scenario file",
                                       event.start_mark)
        return super().compose_node(parent, index)


def _map(loader: _Loader, node: MappingNode) -> LDict:
    result = LDict()
    result.line, result.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
        key = str(key)
        if key in result:
            raise ConstructorError(None, None, f"the key {key!r} appears twice", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _seq(loader: _Loader, node: SequenceNode) -> LList:
    result = LList(loader.construct_object(child, deep=True) for child in node.value)
    result.line, result.item_lines = node.start_mark.line + 1, [c.start_mark.line + 1 for c in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
for _tag in ("omap", "pairs", "set", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", None)  # type: ignore[arg-type]


def _syntax(message: str, line: int | None, column: int | None = None) -> Invalid:
    where = f" (line {line})" if line else ""
    return Invalid(f"the scenario file is malformed{where}: {message}",
                   [Problem(message, line=line, column=column, rule="scenarios.syntax")])


def _from_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = " ".join(filter(None, [err.context, err.problem])) or "not valid YAML"
        raise _syntax(message, mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise _syntax(str(err), None) from None
    except RecursionError:
        raise _syntax("the file nests too deeply", None) from None


def load(raw: bytes | str, kind: str | None = None) -> Any:
    """The file's value with lines; `kind` 'json' or 'yaml' (None: JSON when it starts with `{` or `[`).

    JSON is checked by the JSON parser first (its error names the line), then read through the YAML
    reader, which accepts JSON, for the lines of its parts.
    """
    size = len(raw)
    if size > MAX_BYTES:
        raise Invalid(f"the scenario file is {size} bytes; the limit is {MAX_BYTES}",
                      [Problem("too large", rule="scenarios.size")])
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise _syntax(f"the file is not UTF-8 text ({err.reason} at byte {err.start})", None) from None
    text = text.lstrip("\ufeff")
    if kind is None:
        kind = "json" if text.lstrip()[:1] in ("{", "[") else "yaml"
    if kind == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError as err:
            raise _syntax(err.msg, err.lineno, err.colno) from None
        except RecursionError:
            raise _syntax("the file nests too deeply", None) from None
    return _from_yaml(text)


def line_of(container: Any, key: str | int | None = None) -> int | None:
    """The line of `container` (a key of an LDict, an index of an LList, or the container itself)."""
    if isinstance(container, LDict) and isinstance(key, str) and key in container.key_lines:
        return container.key_lines[key]
    if isinstance(container, LList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None)
