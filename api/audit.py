"""HTTP resource for the audit trail across incidents."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import audit

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.incidents import AuditPageSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit trail")


@blp.route("")
class AuditCollection(MethodView):
    @requires("audit.read")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Audited transitions of all incidents, oldest first (paged with `cursor`)."""
        items, cursor = audit.page(engine(), **query, principal=current_principal())
        return {"items": items, "next_cursor": cursor}
