"""HTTP resources for what-if simulations: request one (a worker runs it), follow it, attach it as evidence."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import simulations

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.simulations import SimulationListSchema, SimulationRequestSchema, SimulationSchema

blp = Blueprint("simulations", __name__, url_prefix="/api/v1/procedures",
                description="What-if simulations of a version against the agreed criteria (SimPy)")
RUNS = "/<key>/versions/<int:number>/simulations"


@blp.route(RUNS)
class Simulations(MethodView):
    @requires("procedures.read")
    @blp.response(200, SimulationListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """The version's simulations, newest first."""
        return {"items": simulations.page(engine(), key, number, principal=current_principal())}

    @requires("simulations.run")
    @blp.arguments(SimulationRequestSchema)
    @blp.response(202, SimulationSchema, description="queued; poll the Location for progress and the prediction")
    @blp.alt_response(422, schema=ProblemSchema, description="what is missing: history or declared distributions")
    def post(self, body: dict[str, Any], key: str, number: int) -> Any:
        """Replay a window of history (or declared distributions) against this version with the given agents."""
        row = simulations.request(engine(), key, number, body, principal=current_principal())
        location = url_for("simulations.Simulation", key=key, number=number, simulation_id=row["id"])
        return row, 202, {"Location": location}


@blp.route(f"{RUNS}/<simulation_id>")
class Simulation(MethodView):
    @requires("procedures.read")
    @blp.response(200, SimulationSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int, simulation_id: str) -> dict[str, Any]:
        """The simulation: progress while it runs, the prediction when it is done."""
        return simulations.get(engine(), key, number, simulation_id, principal=current_principal())


@blp.route(f"{RUNS}/<simulation_id>/attach")
class AttachSimulation(MethodView):
    @requires("procedures.govern")
    @blp.response(200, SimulationSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="not finished, or the version is past approval")
    def post(self, key: str, number: int, simulation_id: str) -> dict[str, Any]:
        """Attach a finished simulation to the version as approval evidence (beside its fitness test)."""
        return simulations.attach(engine(), key, number, simulation_id, principal=current_principal())
