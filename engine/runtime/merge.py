"""Our rule for merging data where parallel branches join (SpiffWorkflow's own merge loses changes).

Rule: each branch's changes are measured against the data it started from (the split). Branch
changes are applied in the order the branches finished, so per key the branch that wrote last wins.
A key a branch deleted stays deleted unless a later-finishing branch wrote it again. Values (lists,
dicts) are replaced whole, never merged element by element.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

_MISSING = object()


def branch_changes(base: Mapping[str, Any], branch: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """What a branch wrote (new or changed keys) and which keys it deleted, relative to `base`."""
    written = {k: v for k, v in branch.items() if base.get(k, _MISSING) != v or k not in base}
    deleted = {k for k in base if k not in branch}
    return written, deleted


def merge_branches(base: Mapping[str, Any], branches: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge branch results, given in the order the branches finished (last wins)."""
    merged = copy.deepcopy(dict(base))
    for branch in branches:
        written, deleted = branch_changes(base, branch)
        for key in deleted:
            merged.pop(key, None)
        for key, value in written.items():
            merged[key] = copy.deepcopy(value)
    return merged
