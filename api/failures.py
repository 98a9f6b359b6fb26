"""HTTP resource for the people who resolve failures: failed incidents and external tasks out of retries."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import failures

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.incidents import FailureListSchema, FailureQuerySchema

blp = Blueprint("failures", __name__, url_prefix="/api/v1/failures", description="Failed activities")


@blp.route("")
class FailureCollection(MethodView):
    @requires("failures.read")
    @blp.arguments(FailureQuerySchema, location="query")
    @blp.response(200, FailureListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Open failures, oldest first (Camunda's /incident shows the same list)."""
        return {"items": failures.search(engine(), incident_id=query["incident"], kind=query["kind"],
                                         principal=current_principal())}
