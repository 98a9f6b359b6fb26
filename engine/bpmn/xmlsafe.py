"""Hardened XML parsing for untrusted uploads: size cap, no DTDs, no entities, no network."""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import Problem, ProcedureInvalid, TooLarge

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_PROBLEMS = 50
DOCTYPE_MESSAGE = "DOCTYPE declarations are not allowed (no DTDs or entities)"

# '<!DOCTYPE' in the encodings a BPMN file may plausibly use; checked before libxml2 sees the bytes.
_DOCTYPE_PATTERNS = (re.compile(rb"<!DOCTYPE", re.IGNORECASE),
                     re.compile("<!DOCTYPE".encode("utf-16-le"), re.IGNORECASE),
                     re.compile("<!DOCTYPE".encode("utf-16-be"), re.IGNORECASE))


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, remove_comments=False, remove_pis=False, strip_cdata=True)


def _doctype_problem(data: bytes) -> Problem | None:
    for pattern in _DOCTYPE_PATTERNS:
        match = pattern.search(data)
        if match:
            line = data[: match.start()].count(b"\n") + 1 if pattern is _DOCTYPE_PATTERNS[0] else None
            return Problem(message=DOCTYPE_MESSAGE, line=line, rule="xml.doctype")
    return None


def _syntax_problems(parser: etree.XMLParser, exc: etree.XMLSyntaxError) -> list[Problem]:
    problems: list[Problem] = []
    for entry in parser.error_log:
        if entry.level < etree.ErrorLevels.ERROR:
            continue
        problems.append(Problem(message=entry.message.strip() or "malformed XML", line=entry.line or None,
                                column=entry.column or None, rule="xml.syntax"))
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:
        line, column = exc.position if getattr(exc, "position", None) else (None, None)
        problems.append(
            Problem(message=str(exc.msg or exc), line=line or None, column=column or None, rule="xml.syntax")
        )
    return problems


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse an uploaded XML document safely.

    Raises TooLarge above `max_bytes`, and ProcedureInvalid (one Problem per libxml2 error, with line
    and column) for an empty body, a DOCTYPE (DTDs and entities are never processed) or malformed XML.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml expects bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise TooLarge(f"the file is {len(data)} bytes; the limit is {max_bytes} bytes",
                       [Problem(message=f"the file is larger than {max_bytes} bytes", rule="xml.size")],
                       max_bytes=max_bytes)
    if not data.strip(b" \t\r\n\x00") or data.strip() in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise ProcedureInvalid(
            "the uploaded file is empty",
            [Problem(message="the file is empty: upload a BPMN 2.0 XML file", rule="xml.empty")],
        )
    problem = _doctype_problem(data)
    if problem is not None:
        raise ProcedureInvalid(DOCTYPE_MESSAGE, [problem])
    parser = _make_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ProcedureInvalid("the file is not well-formed XML", _syntax_problems(parser, exc)) from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding name in the XML declaration
        raise ProcedureInvalid(
            "the file could not be read as XML",
            [Problem(message=f"cannot read the file as XML: {exc}", rule="xml.syntax")],
        ) from None
    if root is None:
        raise ProcedureInvalid("the file is not well-formed XML",
                               [Problem(message="no root element", rule="xml.syntax")])
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ProcedureInvalid(DOCTYPE_MESSAGE, [Problem(message=DOCTYPE_MESSAGE, rule="xml.doctype")])
    return tree
