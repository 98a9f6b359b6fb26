"""HTTP resource for an incident's legal hold: set by a supervisor with a reason, it stops erasure."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import legal_holds

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.records import LegalHoldSchema, LegalHoldStateSchema

blp = Blueprint("legal_holds", __name__, url_prefix="/api/v1/incidents", description="Legal holds")


@blp.route("/<incident_id>/legal-hold")
class LegalHold(MethodView):
    @requires("incidents.hold")
    @blp.arguments(LegalHoldSchema)
    @blp.response(200, LegalHoldStateSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def put(self, body: dict[str, Any], incident_id: str) -> dict[str, Any]:
        """Put the incident under legal hold: its personal data is kept from erasure until released."""
        return legal_holds.set_hold(engine(), incident_id, reason=body["reason"], principal=current_principal())

    @requires("incidents.hold")
    @blp.response(200, LegalHoldStateSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def delete(self, incident_id: str) -> dict[str, Any]:
        """Release the legal hold."""
        return legal_holds.release_hold(engine(), incident_id, principal=current_principal())
