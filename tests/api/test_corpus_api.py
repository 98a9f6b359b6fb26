"""Every file of the shared third-party corpus through the upload API: 201 or a reasoned 422, never a 500."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import corpus_dir

pytestmark = pytest.mark.corpus  # deselected with one line when the corpus is absent outside CI
CORPUS = corpus_dir()
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


def _name(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


@pytest.mark.parametrize("path", FILES, ids=[_name(p) for p in FILES])
def test_corpus_file_is_accepted_or_refused_with_reasons(client, path: Path) -> None:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    response = client.post("/api/v1/procedures", data=data, content_type="application/xml")
    text = response.get_data(as_text=True)
    assert response.status_code in (201, 422), f"{_name(path)}: {response.status_code} {text[:1000]}"
    assert "Traceback" not in text
    body = response.get_json()
    if response.status_code == 201:
        assert response.mimetype == "application/json"
        assert body["key"] and body["version"] == 1 and body["status"] == "draft"
        stored = client.get(f"/api/v1/procedures/{body['key']}/versions/1/bpmn")
        assert stored.status_code == 200 and stored.get_data() == data
    else:
        assert response.mimetype == "application/problem+json"
        assert body["status"] == 422 and body["title"]
        assert len(body.get("errors") or []) >= 1
        assert all(isinstance(e.get("message"), str) and e["message"].strip() for e in body["errors"])
        assert client.get("/api/v1/procedures").get_json()["items"] == []
    assert client.get("/healthz").status_code == 200


def test_the_corpus_is_there() -> None:
    """Guard: an empty corpus would make the parametrized test above vacuous."""
    assert CORPUS.is_dir(), f"no corpus at {CORPUS}: CI lays ../shared beside the checkout"
    assert len([p for p in FILES if p.suffix == ".bpmn"]) >= 20
