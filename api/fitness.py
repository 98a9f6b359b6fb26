"""HTTP resources for fitness tests: request one (a worker runs Locust), read its report and raw CSV."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import fitness

from .auth import requires
from .extensions import engine
from .identity import current_actor
from .schemas.common import ProblemSchema
from .schemas.fitness import FitnessRequestSchema, FitnessTestListSchema, FitnessTestSchema

blp = Blueprint("fitness", __name__, url_prefix="/api/v1/procedures", description="Fitness tests (Locust)")
TESTS = "/<key>/versions/<int:number>/fitness-tests"


def _dispatch(test_id: str) -> None:
    """Hand the run to the configured runner: app.extensions["fitness_dispatch"] (the Celery task once
    workers are wired in), else a thread of this process."""
    dispatch: Callable[[str], Any] | None = current_app.extensions.get("fitness_dispatch")
    if dispatch is not None:
        dispatch(test_id)
    else:
        fitness.run_in_background(engine(), test_id)


@blp.route(TESTS)
class FitnessTests(MethodView):
    @requires("procedures.read")
    @blp.response(200, FitnessTestListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """Fitness tests of the version, newest first."""
        return {"items": fitness.page(engine(), key, number)}

    @requires("loadtests.run")
    @blp.arguments(FitnessRequestSchema)
    @blp.response(202, FitnessTestSchema, description="queued; poll the Location for progress and the report")
    @blp.alt_response(409, schema=ProblemSchema, description="a test of this version is already running")
    @blp.alt_response(422, schema=ProblemSchema, description="no volume given and none declared")
    def post(self, body: dict[str, Any], key: str, number: int) -> Any:
        """Run Locust at the given (default: declared peak) volume against this exact version on an isolated database."""
        row = fitness.request(engine(), key, number, incidents_per_hour=body.get("incidents_per_hour"),
                              agents=body.get("agents"), duration_s=body.get("duration"), actor=current_actor())
        _dispatch(row["id"])
        location = url_for("fitness.FitnessTest", key=key, number=number, test_id=row["id"])
        return row, 202, {"Location": location}


@blp.route(f"{TESTS}/<test_id>")
class FitnessTest(MethodView):
    @requires("procedures.read")
    @blp.response(200, FitnessTestSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int, test_id: str) -> dict[str, Any]:
        """The test: progress while it runs, the report when it is done."""
        return fitness.get(engine(), key, number, test_id)


@blp.route(f"{TESTS}/<test_id>/csv/<name>")
class FitnessCsv(MethodView):
    @blp.doc(responses={"200": {"description": "Locust's raw CSV: stats, failures or history",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    @requires("procedures.read")
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int, test_id: str, name: str) -> Response:
        """The raw Locust CSV kept with the report (`stats`, `failures` or `history`)."""
        return Response(fitness.raw_csv(engine(), key, number, test_id, name), mimetype="text/csv")
