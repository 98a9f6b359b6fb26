"""Personal-data declarations as pure functions: what a procedure declares, sifting values, markers."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import Invalid
from engine.records.declarations import ERASED, MARKER, declared, refuse_markers, resolve, sift, subject_key

LINT = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "lint"
BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"


def test_process_properties_and_form_field_properties_declare_personal_data() -> None:
    field_level = declared(load_procedure((LINT / "personal_undeclared_pass.bpmn").read_bytes()))
    assert field_level.names == {"caller_phone"} and field_level.subject == "caller_ref"
    complaint = declared(load_procedure((BUNDLED / "customer_complaint.bpmn").read_bytes()))
    assert complaint.names == {"customer_name", "customer_email"} and complaint.subject == "customer_email"
    assert complaint.retention == "P3Y" and complaint.retention_error is None
    ended = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert complaint.retain_until(ended, "P2Y") == datetime(2029, 2, 28, 12, 0, tzinfo=UTC)
    bad = declared(load_procedure((LINT / "personal_retention_fail.bpmn").read_bytes()))
    assert bad.retention_error and bad.retain_until(ended, "P1Y") == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)


def test_sift_swaps_personal_values_for_the_marker_and_resolve_reads_them_back() -> None:
    names = frozenset({"name", "phone"})
    kept, personal = sift({"name": "Ann", "phone": None, "priority": "P1", "other": MARKER}, names)
    assert kept == {"name": MARKER, "phone": None, "priority": "P1", "other": MARKER}
    assert personal == {"name": "Ann"}
    assert sift({"name": MARKER}, names) == ({"name": MARKER}, {})  # a marker is not personal data itself
    assert resolve(kept, {"name": "Ann"}) == {"name": "Ann", "phone": None, "priority": "P1", "other": ERASED}
    assert resolve({"name": MARKER}, {"name": None}) == {"name": ERASED}


def test_a_form_may_not_echo_a_marker_back_for_a_personal_field() -> None:
    definition = load_procedure((LINT / "personal_undeclared_pass.bpmn").read_bytes())
    refuse_markers(definition, {"caller_phone": "07700 900123", "caller_ref": ERASED})  # not personal: fine
    for echoed in (MARKER, ERASED):
        with pytest.raises(Invalid) as err:
            refuse_markers(definition, {"caller_phone": echoed})
        assert [p.field for p in err.value.problems] == ["caller_phone"]


def test_the_subject_key_is_keyed_and_ignores_surrounding_spaces() -> None:
    assert subject_key(b"k" * 32, "a@b.c") == subject_key(b"k" * 32, " a@b.c ") != subject_key(b"j" * 32, "a@b.c")
    assert "a@b.c" not in subject_key(b"k" * 32, "a@b.c")
