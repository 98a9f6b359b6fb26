"""HTTP resource for the debrief of a major incident, as JSON or as Markdown."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.monitoring.debrief_markdown import render
from engine.services import debriefs

from .auth import requires
from .extensions import engine
from .schemas.common import ProblemSchema
from .schemas.debriefs import DebriefQuerySchema, DebriefSchema

blp = Blueprint("debriefs", __name__, url_prefix="/api/v1/incidents", description="Debriefs of major incidents")

MARKDOWN = "text/markdown"


def _wants_markdown(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt.lower() in ("markdown", "md")
    return request.accept_mimetypes[MARKDOWN] > request.accept_mimetypes["application/json"]


@blp.route("/<incident_id>/debrief")
class IncidentDebrief(MethodView):
    @requires("debriefs.read")
    @blp.arguments(DebriefQuerySchema, location="query")
    @blp.response(200, DebriefSchema, description="JSON; text/markdown with ?format=markdown or Accept")
    @blp.alt_response(404, schema=ProblemSchema, description="no such incident, or it is not major")
    def get(self, query: dict[str, Any], incident_id: str) -> Any:
        """The debrief record of a major incident, built from its audit trail: timeline with actors, checks
        failed and overridden, SLA breaches, who took part, durations per phase and lane, lessons learned
        and agreed actions (from the debrief task)."""
        record = debriefs.debrief(engine(), incident_id)
        if _wants_markdown(query["format"]):
            return Response(render(record), content_type=f"{MARKDOWN}; charset=utf-8")
        return record
