"""The audit hash chain as pure functions: sealing, verifying, and what each kind of tampering looks like."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.records import chain

KEY = b"k" * 32
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _rows(n: int, personal: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rows = [{"incident_id": "i-1", "procedure_key": "p", "procedure_version": 1, "kind": "task_completed",
             "task_id": f"t{i}", "actor": "amy", "at": AT + timedelta(seconds=i), "data": {"n": i, "x": 1.0},
             "test": False, "personal": personal if i == 1 else None} for i in range(n)]
    head = chain.seal(KEY, (0, chain.GENESIS), rows)
    for i, row in enumerate(rows):
        row["id"] = 100 + i
    rows.append({"head": head})
    return rows


def _split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], tuple[int, str]]:
    return rows[:-1], rows[-1]["head"]


def test_a_sealed_chain_verifies_and_numbers_its_rows() -> None:
    rows, head = _split(_rows(4))
    assert [r["seq"] for r in rows] == [1, 2, 3, 4] and head == (4, rows[-1]["hash"])
    verdict = chain.verify(KEY, "i-1", rows, head)
    assert verdict.valid and verdict.rows == 4 and verdict.head_seq == 4


def test_an_edited_field_breaks_the_chain_at_that_row() -> None:
    rows, head = _split(_rows(4))
    rows[2]["actor"] = "mallory"
    verdict = chain.verify(KEY, "i-1", rows, head)
    assert verdict.broken is not None and verdict.broken.seq == 3 and verdict.broken.audit_id == 102


def test_an_edited_json_payload_breaks_it_but_the_database_reading_1_0_as_1_does_not() -> None:
    rows, head = _split(_rows(3))
    rows[0]["data"] = {"x": 1, "n": 0}  # jsonb gives 1.0 back as 1, keys in another order: the same value
    assert chain.verify(KEY, "i-1", rows, head).valid
    rows[0]["data"] = {"x": 2, "n": 0}
    assert chain.verify(KEY, "i-1", rows, head).broken.seq == 1  # type: ignore[union-attr]


def test_a_removed_row_in_the_middle_or_at_the_end_is_found() -> None:
    rows, head = _split(_rows(4))
    middle = chain.verify(KEY, "i-1", rows[:1] + rows[2:], head)
    assert middle.broken is not None and middle.broken.seq == 3 and "missing" in middle.broken.reason
    tail = chain.verify(KEY, "i-1", rows[:3], head)
    assert tail.broken is not None and tail.broken.seq == 4 and "removed from the end" in tail.broken.reason


def test_another_key_cannot_rebuild_the_chain() -> None:
    rows, head = _split(_rows(2))
    assert chain.verify(b"x" * 32, "i-1", rows, head).broken.seq == 1  # type: ignore[union-attr]


def test_erasing_a_personal_payload_keeps_the_chain_and_altering_it_does_not() -> None:
    rows, head = _split(_rows(3, personal={"caller_name": "Ann Smith"}))
    assert rows[1]["personal_mac"] is not None and rows[0]["personal_mac"] is None
    altered = [dict(r) for r in rows]
    altered[1]["personal"] = {"caller_name": "Bob Jones"}
    assert chain.verify(KEY, "i-1", altered, head).broken.seq == 2  # type: ignore[union-attr]
    rows[1]["personal"] = None  # erased: the MAC stays
    assert chain.verify(KEY, "i-1", rows, head).valid


def test_the_personal_mac_is_keyed_so_a_guess_cannot_be_confirmed_without_the_key() -> None:
    assert chain.personal_mac(KEY, {"phone": "07700 900123"}) != chain.personal_mac(b"y" * 32, {"phone": "07700 900123"})


def test_rows_written_before_the_chain_are_counted_apart() -> None:
    rows, head = _split(_rows(2))
    legacy = {"id": 1, "incident_id": "i-1", "seq": None, "hash": None}
    verdict = chain.verify(KEY, "i-1", [legacy, *rows], head)
    assert verdict.valid and verdict.unchained == 1 and verdict.rows == 3


def test_rows_appended_while_verifying_are_checked_against_the_head_read_again() -> None:
    rows, head = _split(_rows(4))
    early = (3, rows[2]["hash"])  # the head as read before the rows; row 4 was appended meanwhile
    assert chain.verify(KEY, "i-1", rows, early, reread=lambda: head).valid
    forged = chain.verify(KEY, "i-1", rows, early, reread=lambda: early)  # a row beyond the head, never headed
    assert forged.broken is not None and "head records row 3" in forged.broken.reason
