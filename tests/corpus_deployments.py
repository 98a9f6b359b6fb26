"""The corpus counted as deployments: how many Camunda 7 test models deploy through the deployments service.

    .venv/bin/python -m tests.corpus_deployments

Unlike the yardstick (tests/corpus_yardstick.py, which loads each file on its own), this takes the path a
designer's upload takes: POST /api/v1/deployments' service, with the procedure checks (reachability, dead
ends) and the cross-file reference check. A file that calls another file's process is deployed together
with the corpus files (that deploy) defining what it calls (issue 13 part 5's grouping); every other file
alone. Prints the counts and the first refusal rule of each file or group that does not deploy.
"""
from __future__ import annotations

import collections
import tempfile

from engine.config import Settings
from engine.db.migrate import upgrade
from engine.errors import EngineError
from engine.services import deployments
from engine.services.engine_app import IncidentEngine
from tests.integration.test_corpus_deployments import _groups, _platform


def count() -> dict[str, object]:
    """{files, callers, caller_groups_of_two_or_more, alone_deployed, alone_refused, groups_deployed,
    group_refusals, alone_refusals} for the corpus as it is now."""
    files = _platform()
    groups, _satisfiable = _groups(files)
    callers = {group[0] for group in groups}
    alone: collections.Counter[str] = collections.Counter()
    grouped: collections.Counter[str] = collections.Counter()
    deployed_alone = deployed_groups = 0
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/corpus.sqlite3"
        upgrade(url)
        engine = IncidentEngine(Settings(database_url=url, deploy_bundled=False, jwt_secret="c" * 40,
                                         audit_hmac_key="d" * 40))
        try:
            for path in (p for p in files if p not in callers):
                try:
                    deployments.deploy_files(engine, [(path.name, path.read_bytes())], name=path.name)
                    deployed_alone += 1
                except EngineError as err:
                    alone[err.problems[0].rule or "?" if err.problems else type(err).__name__] += 1
            for group in groups:
                try:
                    deployments.deploy_files(engine, [(p.name, p.read_bytes()) for p in group], name=group[0].name)
                    deployed_groups += 1
                except EngineError as err:
                    grouped[err.problems[0].rule or "?" if err.problems else type(err).__name__] += 1
        finally:
            engine.db.dispose()
    return {"files": len(files), "callers": len(callers),
            "caller_groups_of_two_or_more": sum(1 for g in groups if len(g) > 1),
            "alone_deployed": deployed_alone, "alone_refused": dict(alone.most_common()),
            "groups_deployed": deployed_groups, "group_refusals": dict(grouped.most_common())}


def main() -> None:
    found = count()
    print(f"{found['files']} Camunda 7 test models as deployments: "
          f"{found['alone_deployed'] + found['groups_deployed']} deploy")  # type: ignore[operator]
    print(f"  {found['files'] - found['callers']} call no other file's process: "  # type: ignore[operator]
          f"{found['alone_deployed']} deploy alone; refused (first rule): {found['alone_refused']}")
    print(f"  {found['callers']} call another file's process ({found['caller_groups_of_two_or_more']} grouped with "
          f"the corpus file defining it): {found['groups_deployed']} deploy; refused: {found['group_refusals']}")


if __name__ == "__main__":
    main()
