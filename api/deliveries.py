"""HTTP resource for an incident's side effects: its outbox deliveries, their attempts and last errors."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import deliveries

from .auth import requires
from .extensions import engine
from .identity import require_incident_visible
from .schemas.common import ProblemSchema
from .schemas.deliveries import DeliveryListSchema

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/incidents", description="Side-effect deliveries")


@blp.route("/<incident_id>/deliveries")
class IncidentDeliveries(MethodView):
    @requires("incidents.audit")
    @blp.response(200, DeliveryListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """Each side effect of the incident (webhook or e-mail), with every attempt and the last error."""
        require_incident_visible(incident_id)
        return {"items": deliveries.for_incident(engine(), incident_id)}
