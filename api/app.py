"""The Flask application: the engine behind a JSON API with an OpenAPI document, one blueprint per resource."""
from __future__ import annotations

from flask import Flask

from engine.config import Settings
from engine.services.engine_app import IncidentEngine

from . import (
    adherence,
    audit,
    auth,
    checks,
    comments,
    conditions,
    data_subjects,
    debriefs,
    decisions,
    deliveries,
    deployments,
    engine_rest,
    external_tasks,
    failures,
    fitness,
    forms,
    governance,
    guard,
    health,
    incidents,
    legal_holds,
    logs,
    messages,
    metrics_endpoint,
    monitoring,
    problems,
    procedures,
    reports,
    scenario_report,
    scenarios,
    signals,
    simulations,
    strategy,
    tasks,
    web,
)
from .json_provider import OrjsonProvider


def create_app(settings: Settings | None = None, engine: IncidentEngine | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()))
    guard.install(app)  # before any route: integer path segments are bounded
    app.json = OrjsonProvider(app)
    app.config.update(
        API_TITLE="Incident-procedure engine",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/static/swagger-ui/",  # vendored: /docs works offline
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True},
        API_SPEC_OPTIONS=auth.SPEC_OPTIONS,
        # Multipart framing needs a little room over the BPMN size cap; the service checks the file itself.
        MAX_CONTENT_LENGTH=max(settings.max_upload_bytes, settings.max_deployment_bytes) + 64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["incident_engine"] = engine = engine or IncidentEngine(settings)
    if settings.scheduler == "celery":  # with a broker, fitness tests run on a worker, never in a web process
        from workers.fitness import dispatcher

        app.extensions["fitness_dispatch"] = dispatcher(settings, engine)
    logs.configure(app, settings.log_level)
    auth.install(app, settings)
    api = problems.ProblemApi(app)
    auth.document(api)
    app.extensions["incident_engine_api"] = api
    problems.register(app)
    for blueprint in (procedures.blp, incidents.blp, tasks.blp, audit.blp, checks.blp, adherence.blp,
                      deliveries.blp, strategy.blp, governance.blp, comments.blp, fitness.blp):
        api.register_blueprint(blueprint)
    for blueprint in (monitoring.blp, debriefs.blp, failures.blp, external_tasks.blp):
        api.register_blueprint(blueprint)
    for blueprint in (messages.blp, messages.triggers, signals.blp, conditions.blp, conditions.variables):
        api.register_blueprint(blueprint)
    api.register_blueprint(scenarios.blp)
    api.register_blueprint(simulations.blp)
    api.register_blueprint(deployments.blp)
    api.register_blueprint(deployments.deletions_blp)
    api.register_blueprint(decisions.blp)
    api.register_blueprint(forms.blp)
    api.register_blueprint(data_subjects.blp)
    api.register_blueprint(legal_holds.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(metrics_endpoint.blp)
    app.register_blueprint(reports.blp)
    app.register_blueprint(scenario_report.blp)
    engine_rest.install(app)
    web.install(app, settings)
    metrics_endpoint.instrument(app)
    return app
