"""HTTP resources for scenario tests: a version's scenario file, running it, and the stored runs."""
from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.errors import Invalid, Problem
from engine.services import scenario_tests

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.scenarios import ScenarioRunListSchema, ScenarioRunSchema, ScenarioSuiteSchema

blp = Blueprint("scenarios", __name__, url_prefix="/api/v1/procedures",
                description="Scenario tests: path-by-path tests of a version, run in an isolated engine")
SUITE = "/<key>/versions/<int:number>/scenario-tests"
_TYPES = {"application/json": "json", "application/yaml": "yaml", "application/x-yaml": "yaml",
          "text/yaml": "yaml", "text/x-yaml": "yaml", "text/plain": None}


def scenario_file() -> tuple[bytes, str | None]:
    """The scenario file from a multipart `scenarios` or `file` field or a raw body, and its format."""
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        upload = request.files.get("scenarios") or request.files.get("file")
        if upload is None:
            raise Invalid("no scenario file in the upload",
                          [Problem("a multipart field named `scenarios` (or `file`) is required", field="scenarios")])
        name = (upload.filename or "").lower()
        return upload.read(), "json" if name.endswith(".json") else "yaml" if name.endswith((".yaml", ".yml")) else None
    if mimetype in _TYPES:
        return request.get_data(), _TYPES[mimetype]
    from werkzeug.exceptions import UnsupportedMediaType

    raise UnsupportedMediaType("send the scenario file as YAML (application/yaml), JSON (application/json) "
                               "or multipart/form-data (field `scenarios`)")


_BODY = {"content": {
    "application/yaml": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "scenarios": {"type": "string", "format": "binary"}}}}}}


@blp.route(SUITE)
class ScenarioSuite(MethodView):
    @requires("procedures.read")
    @blp.response(200, ScenarioSuiteSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """The version's current scenario file."""
        return scenario_tests.get_suite(engine(), key, number, principal=current_principal())

    @requires("scenarios.write")
    @blp.doc(requestBody=_BODY)
    @blp.response(201, ScenarioSuiteSchema, description="stored as the version's current scenario file")
    @blp.alt_response(200, schema=ScenarioSuiteSchema, description="identical bytes: the current file")
    @blp.alt_response(409, schema=ProblemSchema, description="the version is approved, active or final")
    @blp.alt_response(415, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema, description="malformed: one entry per problem, with its line")
    def put(self, key: str, number: int) -> Any:
        """Store the version's scenario tests (YAML or JSON), replacing the current file."""
        raw, kind = scenario_file()
        row, created = scenario_tests.upload(engine(), key, number, raw, kind=kind, principal=current_principal())
        return row, 201 if created else 200


@blp.route(f"{SUITE}/run")
class ScenarioRun(MethodView):
    @requires("scenarios.run")
    @blp.response(201, ScenarioRunSchema, description="every scenario's result and the coverage, stored")
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="the version has no scenario tests")
    def post(self, key: str, number: int) -> Any:
        """Run every scenario in an isolated engine (never touching live incidents), clock moved, not waited."""
        row = scenario_tests.run(engine(), key, number, principal=current_principal())
        location = url_for("scenarios.ScenarioRunItem", key=key, number=number, run_id=row["id"])
        return row, 201, {"Location": location}


@blp.route(f"{SUITE}/runs")
class ScenarioRuns(MethodView):
    @requires("procedures.read")
    @blp.response(200, ScenarioRunListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """The version's scenario runs, newest first (totals only)."""
        return {"items": scenario_tests.runs(engine(), key, number, principal=current_principal())}


@blp.route(f"{SUITE}/runs/<run_id>")
class ScenarioRunItem(MethodView):
    @requires("procedures.read")
    @blp.response(200, ScenarioRunSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int, run_id: str) -> dict[str, Any]:
        """One run: each scenario's result, path and audit, and the coverage."""
        return scenario_tests.get_run(engine(), key, number, run_id, principal=current_principal())
