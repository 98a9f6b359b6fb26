"""The designer's workbench (/procedures): deploy BPMN, and see what the engine thinks of each version."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from engine.errors import Invalid, TooLarge
from engine.identity import policy
from engine.services import checks, comments, governance, procedures

from ..extensions import engine
from .governing import actions_for
from .session import signed_in

bp = Blueprint("procedures", __name__)
COMMENT_LIMIT = 4000


def _listing(status: int = 200, problems: list[dict[str, Any]] | None = None, detail: str | None = None) -> Any:
    rows = procedures.latest(engine(), principal=g.principal)
    return render_template("web/procedures.html", procedures=rows, problems=problems or [], detail=detail,
                           may_upload=policy.allowed(g.principal, "procedures.upload")), status


@bp.get("/procedures")
@signed_in
def workbench() -> Any:
    return _listing()


@bp.post("/procedures")
@signed_in
def upload() -> Any:
    """Deploy the chosen file (a new version, or the existing one for identical bytes); a file the engine
    refuses is listed problem by problem, with line, column and element id."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _listing(422, detail="Choose a BPMN file to deploy.")
    try:
        row, created = procedures.deploy(engine(), upload.read(), principal=g.principal)
    except (Invalid, TooLarge) as err:
        return _listing(422 if isinstance(err, Invalid) else 413, [p.as_dict() for p in err.problems], err.detail)
    flash(f"{'Deployed' if created else 'Unchanged: already stored as'} {row['key']} version {row['version']}.",
          "info")
    return redirect(url_for(".version", key=row["key"], number=row["version"]))


@bp.get("/procedures/<key>/versions/<int:number>")
@signed_in
def version(key: str, number: int) -> Any:
    """Lint findings, checks, governance status with the unmet approval conditions, comments on the diagram."""
    principal = g.principal
    row = procedures.version(engine(), key, number, principal=principal)
    versions = procedures.versions(engine(), key, principal=principal)
    findings = checks.lint_findings(engine(), key, number)
    status = governance.status(engine(), key, number)
    notes = comments.page(engine(), key, number)
    counts: dict[str, int] = {}
    for note in notes:
        if note["status"] == "open" and note["element_id"]:
            counts[note["element_id"]] = counts.get(note["element_id"], 0) + 1
    xml = procedures.bpmn(engine(), key, number, principal=principal).decode("utf-8", "replace")
    return render_template("web/version.html", proc=row, versions=versions, findings=findings, status=status,
                           comments=notes, elements=_elements(row), summary=row.get("summary") or {},
                           bpmn_xml=xml, comment_counts=counts,
                           actions=actions_for(principal, status["allowed_actions"]),
                           may_comment=policy.allowed(principal, "comments.write"),
                           may_test=policy.allowed(principal, policy.TEST_INCIDENTS))


def _elements(row: dict[str, Any]) -> list[dict[str, str]]:
    """The elements a comment may be attached to, as the summary names them (tasks first)."""
    summary = row.get("summary") or {}
    found = [{"id": t["id"], "name": t.get("name") or t["id"]} for t in summary.get("user_tasks") or []]
    for check in summary.get("checks") or []:
        if isinstance(check, dict) and check.get("gateway_id"):
            found.append({"id": check["gateway_id"], "name": f"check {check.get('check') or check['gateway_id']}"})
    return found


@bp.get("/procedures/<key>/versions/<int:number>/bpmn")
@signed_in
def bpmn(key: str, number: int) -> Response:
    """The version's BPMN for the diagram (the same bytes as the API's .../bpmn), never rendered as a page."""
    data = procedures.bpmn(engine(), key, number, principal=g.principal)
    return Response(data, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{key}-v{number}.bpmn"'})


@bp.post("/procedures/<key>/versions/<int:number>/comments")
@signed_in
def comment(key: str, number: int) -> Any:
    policy.require(g.principal, "comments.write")
    body = (request.form.get("body") or "").strip()
    element = (request.form.get("element_id") or "").strip() or None
    if not body or len(body) > COMMENT_LIMIT:
        flash(f"A comment needs 1 to {COMMENT_LIMIT} characters.", "warning")
    else:
        try:
            comments.add(engine(), key, number, body=body, element_id=element, actor=g.principal.user_id,
                         principal=g.principal)
        except Invalid as err:
            flash(f"The comment was not added: {err.problems[0].message if err.problems else err.detail}",
                  "warning")
        else:
            flash("Comment added.", "info")
    return redirect(url_for(".version", key=key, number=number) + "#comments")
