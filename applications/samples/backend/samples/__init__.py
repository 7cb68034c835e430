"""The samples service: a Flask application whose controllers run operations as CloudHarness services do."""

from __future__ import annotations

from flask import Flask

from .controllers import workflows_controller


def create_app() -> Flask:
    """The service's Flask application, with the workflow endpoints under ``/operations``."""
    app = Flask("samples")
    app.register_blueprint(workflows_controller.blueprint, url_prefix="/operations")
    return app
