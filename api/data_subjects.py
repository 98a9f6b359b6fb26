"""HTTP resource for data subjects' rights (UK GDPR Art. 15 and 17), for the data-protection officer."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import data_subjects

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.records import ErasureRequestSchema, ErasureResultSchema, SubjectExportSchema

blp = Blueprint("data_subjects", __name__, url_prefix="/api/v1/data-subjects", description="Data subjects")


@blp.route("/erasure")
class Erasure(MethodView):
    @requires("data_subjects.erase")
    @blp.arguments(ErasureRequestSchema)
    @blp.response(200, ErasureResultSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Erase the subject's personal data from every incident (running ones too), except those under
        legal hold; says what was erased, what was already erased and what was held. Always recorded,
        also when nothing is held about the subject."""
        return data_subjects.erase(engine(), body["subject_id"], legal_basis=body["legal_basis"],
                                   principal=current_principal())


@blp.route("/<path:subject_id>/export")
class Export(MethodView):
    @requires("data_subjects.export")
    @blp.response(200, SubjectExportSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def get(self, subject_id: str) -> dict[str, Any]:
        """Everything held about the subject as one JSON document: incidents, personal values (or when
        they were erased), the audit entries that carry them, and the requests made for them."""
        return data_subjects.export(engine(), subject_id, principal=current_principal())
