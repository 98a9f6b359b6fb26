"""The corpus yardstick counts deployments: Camunda's own test models that call each other's processes are
deployed together, and no refusal is then an unresolved reference that the corpus itself could satisfy."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.bpmn.support import BPMN_NS
from engine.bpmn.xmlsafe import parse_xml
from engine.deployments.references import collect
from engine.deployments.resources import read_file
from engine.errors import EngineError
from engine.services import deployments
from engine.services.engine_app import IncidentEngine


def _platform() -> list[Path]:
    roots = [Path(__file__).resolve().parents[2].parent / "shared" / "corpus",
             Path(os.environ.get("INCIDENT_ENGINE_CORPUS", "/nonexistent"))]
    corpus = next((r for r in roots if r.is_dir()), None)
    return sorted(p for p in (corpus / "camunda-platform-tests").glob("*") if p.is_file()) if corpus else []


def _deployable(path: Path) -> bool:
    try:
        read_file(path.name, path.read_bytes(), max_bytes=1 << 22, summarize=lambda d: {})
        return True
    except EngineError:
        return False


def _groups(files: list[Path]) -> tuple[list[list[Path]], set[str]]:
    """Each file that calls another file's process, with the corpus files (that deploy) defining what it calls."""
    defines: dict[str, list[Path]] = {}
    calls: dict[Path, set[str]] = {}
    for path in files:
        try:
            root = parse_xml(path.read_bytes(), max_bytes=1 << 22).getroot()
            refs, _ = collect(root)
        except EngineError:
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            defines.setdefault(process.get("id") or "", []).append(path)
        calls[path] = {r.key for r in refs if r.kind == "process"}
    satisfiable: dict[str, Path] = {}
    for key, paths in defines.items():
        found = next((p for p in paths if _deployable(p)), None)
        if found is not None:
            satisfiable[key] = found
    groups = []
    for path in (p for p, keys in calls.items() if keys):
        group, todo = [path], list(calls[path])
        while todo:
            callee = satisfiable.get(todo.pop())
            if callee is not None and callee not in group:
                group.append(callee)
                todo.extend(calls.get(callee, ()))
        groups.append(group)
    return groups, set(satisfiable)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_calls_between_corpus_files_resolve_when_deployed_together(engine: IncidentEngine) -> None:
    files = _platform()
    assert len(files) > 300, "no camunda-platform-tests corpus"
    groups, satisfiable = _groups(files)
    assert len(groups) >= 20  # 37 files call another file's process (2026-12-01)
    unresolved, deployed = [], 0
    for group in groups:
        try:
            deployments.deploy_files(engine, [(p.name, p.read_bytes()) for p in group], name=group[0].name)
            deployed += 1
        except EngineError as err:
            unresolved += [(group[0].name, p.message) for p in err.problems
                           if p.rule == "reference.unresolved" and any(f"'{k}'" in p.message for k in satisfiable)]
    assert not unresolved, unresolved
    assert deployed >= 5  # 8 of the 37 groups deploy whole (2026-12-01); the others are refused for other reasons
