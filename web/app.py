"""The Flask application factory."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from engine.config import Settings
from engine.process_engine import ProcessEngine
from web import errors, ui, vendor
from web.api import PREFIX, definitions, deployments, engine_info, history, instances, jobs, messages, tasks
from web.api.external_tasks import blp as external_tasks_blp
from web.auth import authenticate_request


class PlusmaApi(Api):
    """flask-smorest's Api, with errors in Camunda's shape instead of its own."""

    def handle_http_exception(self, error):  # noqa: ANN001, ANN201
        return errors.handle_http_exception(error)


def create_app(settings: Settings | None = None, *, engine: ProcessEngine | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        API_TITLE="Plūsma engine REST API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    engine = engine or ProcessEngine(settings or Settings.from_env())
    app.extensions["plusma"] = engine
    api = PlusmaApi(app)
    for module in (engine_info, deployments, definitions, instances, tasks, history, jobs, messages):
        api.register_blueprint(module.blp)
    api.register_blueprint(external_tasks_blp)
    app.before_request(authenticate_request)
    errors.register(app)
    app.register_blueprint(vendor.blp)
    ui.init_app(app, engine)
    return app
