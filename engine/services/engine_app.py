"""The engine's shared resources (database, spec cache, script engine) that every service call uses."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from engine.calendar import warm as warm_calendar
from engine.config import Settings
from engine.db.database import act_as, make_engine
from engine.db.uow import UnitOfWork
from engine.records import keys
from engine.runtime.check_gateway import prepare_checks
from engine.runtime.procedure import RuntimeProcedure, SpecCache, prepare_spec
from engine.runtime.runner import Runner


class IncidentEngine:
    """Built once per process (web worker or Celery worker); holds nothing that another process needs."""

    def __init__(self, settings: Settings, db: Engine | None = None) -> None:
        from engine.runtime.script_engine import SafeScriptEngine

        self.settings = settings
        self.db = db or make_engine(settings.database_url,
                                    prepared_statements=settings.db_prepared_statements)
        if settings.database_role:
            act_as(self.db, settings.database_role)
        keys.bind(self.db, keys.load(settings))
        self.specs = SpecCache()
        self.script_engine = SafeScriptEngine(region_country=settings.calendar_country,
                                              region_subdivision=settings.calendar_subdivision)

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.db, write=write)

    def runtime(self, procedure: dict[str, Any], bpmn: bytes | None = None,
                definition: Any = None) -> RuntimeProcedure:
        """The runnable procedure for a stored version, parsed once per process and cached."""
        cached = self.specs.get((procedure["id"], procedure["sha256"]))
        if cached is not None:
            return cached
        if definition is None:
            from engine.bpmn.parser import load_procedure

            if bpmn is None:
                from engine.db import procedure_rows

                with self.uow(write=False) as uow:
                    bpmn = procedure_rows.bpmn(uow.conn, procedure["id"])
            assert bpmn is not None
            definition = load_procedure(bpmn, process=procedure["key"],
                                        max_bytes=max(self.settings.max_upload_bytes, len(bpmn)),
                                        limits=self.settings.model_limits)
        prepare_spec(definition.spec, definition.subprocess_specs)
        prepare_checks(definition)
        warm_calendar(self.settings.calendar_country, self.settings.calendar_subdivision)  # not in a transition
        runtime = RuntimeProcedure(procedure["id"], procedure["key"], procedure["version"], procedure["sha256"],
                                   definition, definition.spec, definition.subprocess_specs)
        return self.specs.put(runtime)

    def runtime_by_id(self, conn: Any, procedure_id: str) -> RuntimeProcedure:
        """The runnable procedure of a stored version by id; a version's bytes never change, so once
        cached no query is needed."""
        cached = self.specs.by_id(procedure_id)
        if cached is not None:
            return cached
        from engine.db import procedure_rows

        procedure = procedure_rows.get_by_id(conn, procedure_id)
        if procedure is None:
            raise LookupError(f"no procedure version {procedure_id}")
        return self.runtime(procedure, bpmn=procedure_rows.bpmn(conn, procedure_id))

    def runner(self, runtime: RuntimeProcedure) -> Runner:
        modes = {name: topic.mode for name, topic in self.settings.outbox_topics.items()}
        runner = Runner(runtime, self.script_engine, loop_cap=self.settings.loop_cap, topic_modes=modes,
                        pulls=self.settings.pulls, budgets=self.settings.budgets, cycle_cap=self.settings.cycle_cap)
        runner.engine = self
        return runner
