"""Camunda 7's extension namespace under its other names: Operaton (the Camunda 7 fork) is read as camunda.

Operaton's `http://operaton.org/schema/1.0/bpmn` carries exactly Camunda 7's attributes and elements, so
the file is rewritten to Camunda's namespace before anything reads it: forms, candidates, listeners, Java
delegates and their refusals (an `operaton:class` is the same 422 as a `camunda:class`) all apply as they
are. Activiti's legacy namespace (`http://activiti.org/bpmn`, which Camunda 7 still reads as its own) is
rewritten the same way, so SpiffWorkflow's Camunda parser sees its attributes too (camunda:collection on a
multi-instance subprocess, forms, ...).
"""
from __future__ import annotations

from typing import Any

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
OPERATON = "http://operaton.org/schema/1.0/bpmn"
ACTIVITI = "http://activiti.org/bpmn"


def read_operaton_as_camunda(root: Any) -> bool:
    """Rewrite operaton:* (and activiti:*) elements and attributes to camunda:*; True when there were any."""
    changed = False
    for prefix in (f"{{{OPERATON}}}", f"{{{ACTIVITI}}}"):
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag.startswith(prefix):
                el.tag = f"{{{CAMUNDA}}}{el.tag[len(prefix):]}"
                changed = True
            for name in [a for a in el.attrib if a.startswith(prefix)]:
                el.set(f"{{{CAMUNDA}}}{name[len(prefix):]}", el.attrib.pop(name))
                changed = True
    return changed
