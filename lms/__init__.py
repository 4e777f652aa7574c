"""Kho học liệu số: the Flask application."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# Flask is imported inside the functions below, not here: ``python -m lms.extract.worker``
# (one short-lived child per document) imports this package, and should not pay for Flask.

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the instance file, LMS_* variables, ``overrides``."""
    from flask import Flask

    from lms.config import load_config

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("LMS_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    from lms.web import AppRequest, BoundedIntConverter

    app.request_class = AppRequest
    # Before any blueprint adds its routes: a rule takes its converter when it is added.
    app.url_map.converters["int"] = BoundedIntConverter
    load_config(app, overrides)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _init_extensions(app)
    _register_blueprints(app)

    from lms.errors import register_error_handlers
    from lms.web import init_request_hooks

    init_request_hooks(app)
    register_error_handlers(app)
    _check_production_accounts(app)
    return app


def _select_locale() -> str:
    from flask import has_request_context, session
    from flask_login import current_user

    if not has_request_context():
        # The command line and the worker speak to operators, in the code base's language.
        return "en"
    chosen = session.get("locale")
    if chosen in ("vi", "en"):
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in ("vi", "en"):
        return current_user.locale
    return "vi"


def _init_extensions(app: Flask) -> None:
    from lms.auth.services import load_session_user
    from lms.extensions import babel, csrf, db, login_manager

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)
    _init_jobs(app)
    _init_mirrors(app)

    from lms.certificates.issuing import connect as connect_certificates
    from lms.quizzes.figures import connect as connect_quiz_figures
    from lms.training.sync import connect as connect_training

    connect_training(app)  # audiences and enrolments follow people's changes
    connect_certificates(app)  # completions are certified
    connect_quiz_figures(app)  # enrolments keep their quiz figures for the reports

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    app.jinja_env.filters["json_text"] = _json_text
    from lms.catalog.display import format_name

    app.jinja_env.filters["format_label"] = format_name
    from lms import pages

    pages.init_app(app)

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        from flask import request
        from flask_babel import get_locale
        from flask_login import current_user

        from lms.permissions import can
        from lms.web import external_url

        return {
            "can": lambda action, obj=None: can(current_user, action, obj),
            "external_url": external_url,
            "current_locale": str(get_locale()),
            "request_path": request.full_path.rstrip("?") if request else "/",
        }


def _init_jobs(app: Flask) -> None:
    """Wire the job queue with every module that declares jobs (the worker runs these)."""
    from lms import jobs
    from lms.accounts import jobs as accounts_jobs
    from lms.catalog import jobs as catalog_jobs
    from lms.certificates import jobs as certificate_jobs
    from lms.changelog import jobs as changelog_jobs
    from lms.discovery import jobs as search_jobs
    from lms.files import jobs as files_jobs
    from lms.harvest import jobs as harvest_jobs
    from lms.ingest import jobs as ingest_jobs
    from lms.jobs import scheduled
    from lms.notify import jobs as notify_jobs
    from lms.quizzes import jobs as quiz_jobs
    from lms.reports import jobs as report_jobs
    from lms.training import assignments as training_enrolment
    from lms.training import sync as training_sync

    jobs.init_app(app, [scheduled, catalog_jobs, changelog_jobs, search_jobs, files_jobs,
                        ingest_jobs, accounts_jobs, training_enrolment, training_sync,
                        harvest_jobs, quiz_jobs, notify_jobs, certificate_jobs, report_jobs])


def _init_mirrors(app: Flask) -> None:
    """The copies of the database that the change log keeps up to date (``lms.changelog``)."""
    from lms import changelog
    from lms.discovery.mirror import SearchMirror
    from lms.oai.projection import OaiMirror

    changelog.init_app(app, [SearchMirror(), OaiMirror()])


def _json_text(value: object) -> str:
    """JSON with Vietnamese left readable; the template's autoescaping makes it safe HTML."""
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _register_blueprints(app: Flask) -> None:
    from lms.admin.people_views import bp as people_admin_bp
    from lms.admin.views import bp as admin_bp
    from lms.api.token_views import bp as tokens_bp
    from lms.api.views import bp as api_bp
    from lms.auth.views import bp as auth_bp
    from lms.catalog.admin_views import bp as collections_admin_bp
    from lms.catalog.views import bp as catalog_bp
    from lms.certificates.train_views import bp as certificates_train_bp
    from lms.certificates.views import bp as certificates_bp
    from lms.changelog.views import bp as mirrors_bp
    from lms.discovery.views import bp as discovery_bp
    from lms.feeds.views import bp as feeds_bp
    from lms.files.views import bp as files_bp
    from lms.harvest.views import bp as harvest_bp
    from lms.ingest.views import bp as ingest_bp
    from lms.jobs.views import admin_bp as jobs_admin_bp
    from lms.jobs.views import bp as jobs_bp
    from lms.main.views import bp as main_bp
    from lms.notify.views import bp as notify_bp
    from lms.oai.views import bp as oai_bp
    from lms.quizzes.train_views import bp as quiz_train_bp
    from lms.quizzes.views import bp as quizzes_bp
    from lms.reports.views import bp as reports_bp
    from lms.stats.views import bp as stats_bp
    from lms.training.train_views import bp as train_bp
    from lms.training.views import bp as learn_bp

    # (blueprint, URL prefix) in registration order: hooks and context processors of the
    # blueprints run in this order.
    for blueprint, url_prefix in (
        (main_bp, None),
        (auth_bp, None),
        (admin_bp, "/admin"),
        (people_admin_bp, "/admin/people"),
        (jobs_bp, "/jobs"),
        (jobs_admin_bp, "/admin/jobs"),
        (catalog_bp, None),
        (files_bp, None),
        (discovery_bp, None),
        (feeds_bp, None),
        (oai_bp, "/oai"),
        (collections_admin_bp, "/admin/collections"),
        (ingest_bp, "/admin/import"),
        (mirrors_bp, "/admin/mirrors"),
        (stats_bp, "/admin/stats"),
        (learn_bp, None),
        (train_bp, "/train"),
        (harvest_bp, "/admin/harvest"),
        (quizzes_bp, None),
        (quiz_train_bp, "/train"),
        (notify_bp, None),
        (certificates_bp, None),
        (certificates_train_bp, "/train/certificates"),
        (reports_bp, "/reports"),
        (api_bp, "/api/v1"),
        (tokens_bp, None),
    ):
        app.register_blueprint(blueprint, url_prefix=url_prefix)


def _check_production_accounts(app: Flask) -> None:
    """Refuse to serve production while demo accounts (with printed passwords) exist."""
    if app.config["ENV"] != "production":
        return
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import OperationalError

    from lms.accounts.models import User
    from lms.config import ConfigurationError
    from lms.extensions import db

    with app.app_context():
        try:
            if not inspect(db.engine).has_table("users"):
                return  # not migrated yet: `lms db upgrade` must be able to run
            demo = db.session.scalars(
                select(User.username).where(User.is_demo.is_(True), User.active.is_(True))
            ).all()
        except OperationalError:
            return  # database down: /health reports it; refusing to boot would hide why
        finally:
            db.session.remove()
            # No pooled connection may outlive the check: gunicorn forks workers after it.
            db.engine.dispose()
    if demo:
        raise ConfigurationError(
            f"Demo accounts exist in this production database ({', '.join(demo)}). Disable or "
            "delete them before starting in production."
        )
