"""HTTP resource for signals: broadcast one to every incident waiting for it and every signal start event."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import signals

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.events import BroadcastSchema, SignalSchema

blp = Blueprint("signals", __name__, url_prefix="/api/v1/signals", description="Signals")


@blp.route("")
class SignalCollection(MethodView):
    @requires("signals.broadcast")
    @blp.arguments(SignalSchema)
    @blp.response(200, BroadcastSchema, description="how many incidents the signal reached and started")
    @blp.alt_response(422, schema=ProblemSchema, description="a bad request, or no procedure declares that name")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Broadcast a signal: every incident waiting for it now catches it (in batches of SIGNAL_BATCH, one
        transaction each), and every active procedure with that signal start event starts an incident."""
        return signals.broadcast(engine(), principal=current_principal(), **body)
