"""The fingerprint of what requirements.lock was generated from: pyproject.toml's dependencies and build
requirements. scripts/lock.sh writes it into the lock; tests/unit/test_lock_file.py compares it (CI)."""
from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "# pyproject.toml fingerprint: "


def inputs(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[str]]:
    data = tomllib.loads(pyproject.read_text())
    return {"dependencies": sorted(data["project"]["dependencies"]),
            "build-system.requires": sorted(data["build-system"]["requires"]),
            "requires-python": [data["project"].get("requires-python", "")]}


def fingerprint(pyproject: Path = ROOT / "pyproject.toml") -> str:
    return hashlib.sha256(json.dumps(inputs(pyproject), sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    print(PREFIX + fingerprint(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pyproject.toml"))
