"""HTTP resources for fitness tests: request one (a worker runs Locust), read its report and raw CSV."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import fitness

from .auth import requires
from .extensions import engine
from .identity import current_actor
from .problems import problem
from .schemas.common import ProblemSchema
from .schemas.fitness import FitnessRequestSchema, FitnessTestListSchema, FitnessTestSchema

blp = Blueprint("fitness", __name__, url_prefix="/api/v1/procedures", description="Fitness tests (Locust)")
log = logging.getLogger("incident_engine.api")
TESTS = "/<key>/versions/<int:number>/fitness-tests"


def _dispatch(test_id: str) -> Response | None:
    """Hand the run to the configured runner: app.extensions["fitness_dispatch"] (the Celery task, set by
    create_app when Celery is the scheduler), else a thread of this process (the embedded default).
    A run that cannot be queued ends as an error at once (503), so it blocks no later request."""
    dispatch: Callable[[str], Any] | None = current_app.extensions.get("fitness_dispatch")
    if dispatch is None:
        fitness.run_in_background(engine(), test_id)
        return None
    try:
        dispatch(test_id)
    except Exception as err:  # noqa: BLE001 - the broker's own error types vary by transport
        log.warning("fitness test %s could not be queued: %s", test_id, err)
        fitness.abandon(engine(), test_id, f"could not be queued for a worker: {type(err).__name__}: {err}")
        return problem(503, "Service unavailable", "the fitness test could not be queued for a worker (is the "
                       "broker up?); it was recorded as an error, try again", fitness_test=test_id)
    return None


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
        unavailable = _dispatch(row["id"])
        if unavailable is not None:
            return unavailable
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
