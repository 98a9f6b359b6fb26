"""HTTP resource for process designers: upload BPMN procedures and read their versions."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.errors import Invalid, Problem
from engine.services import procedures, scenario_tests

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .scenarios import scenario_file
from .schemas.common import ProblemSchema
from .schemas.procedures import ProcedureListSchema, ProcedureSchema

blp = Blueprint("procedures", __name__, url_prefix="/api/v1/procedures", description="Procedures (BPMN)")

_XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")


def _upload_named() -> tuple[bytes, str | None, str | None]:
    """The BPMN bytes, the optional `process` name and the multipart file name."""
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("no file in the upload", [Problem("a multipart field named `file` is required",
                                                            field="file")])
        return upload.read(), request.form.get("process") or request.args.get("process"), upload.filename
    if mimetype in _XML_TYPES:
        return request.get_data(), request.args.get("process"), None
    from werkzeug.exceptions import UnsupportedMediaType

    raise UnsupportedMediaType(
        f"send the BPMN file as multipart/form-data (field `file`) or as {', '.join(_XML_TYPES[:2])}")


@blp.route("")
class ProcedureCollection(MethodView):
    @requires("procedures.read")
    @blp.response(200, ProcedureListSchema)
    def get(self) -> dict[str, Any]:
        """The latest version of each procedure."""
        return {"items": procedures.latest(engine(), principal=current_principal())}

    @requires("procedures.upload")
    @blp.doc(requestBody={"content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}, "process": {"type": "string"},
            "scenarios": {"type": "string", "format": "binary",
                          "description": "the version's scenario tests (YAML or JSON), stored with it"}}}},
        "application/xml": {"schema": {"type": "string"}},
    }}, parameters=[{"in": "query", "name": "process", "schema": {"type": "string"},
                     "description": "the executable process to deploy, when the file has several"}])
    @blp.response(201, ProcedureSchema, description="a new version was stored")
    @blp.alt_response(200, schema=ProcedureSchema, description="identical bytes: the existing version")
    @blp.alt_response(413, schema=ProblemSchema, description="over the upload size cap")
    @blp.alt_response(409, schema=ProblemSchema, description="a deployment of the same procedure was being stored at "
                                                         "the same time; retry")
    @blp.alt_response(415, schema=ProblemSchema, description="not multipart or XML")
    @blp.alt_response(422, schema=ProblemSchema, description="not valid BPMN; one entry per problem")
    def post(self) -> Any:
        """Upload a BPMN 2.0 file; each upload of a process id makes a new version."""
        data, process, filename = _upload_named()
        scenarios = request.files.get("scenarios") if request.mimetype == "multipart/form-data" else None
        if scenarios is not None:
            raw, kind = scenario_file()
            row, created = scenario_tests.deploy_with_scenarios(engine(), data, raw, kind=kind, process=process,
                                                                principal=current_principal())
            return row, 201 if created else 200
        row, created = procedures.deploy(engine(), data, process=process, principal=current_principal(),
                                         filename=filename)
        return row, 201 if created else 200


@blp.route("/<key>")
class ProcedureVersions(MethodView):
    @requires("procedures.read")
    @blp.response(200, ProcedureListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str) -> dict[str, Any]:
        """Every version of one procedure."""
        return {"items": procedures.versions(engine(), key, principal=current_principal())}


@blp.route("/<key>/versions/<int:number>")
class ProcedureVersion(MethodView):
    @requires("procedures.read")
    @blp.response(200, ProcedureSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """One version of a procedure."""
        return procedures.version(engine(), key, number, principal=current_principal())


@blp.route("/<key>/versions/<int:number>/bpmn")
class ProcedureBpmn(MethodView):
    @requires("procedures.read")
    @blp.doc(responses={"200": {"description": "the uploaded XML, byte for byte",
                                "content": {"application/xml": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> Response:
        """The uploaded BPMN XML exactly as it was uploaded."""
        # content_type, not mimetype: no charset parameter, which would override the XML declaration
        return Response(procedures.bpmn(engine(), key, number, principal=current_principal()),
                        content_type="application/xml")
