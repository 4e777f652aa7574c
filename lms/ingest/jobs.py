"""The background job behind the administrators' import page."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.accounts.models import User
from lms.extensions import db
from lms.ingest.imports import ImportOptions, run_import
from lms.jobs import JobContext, job

#: Uploaded packages wait here (under DATA_DIR) for their job, which removes them.
UPLOADS = ("tmp", "import-uploads")


def upload_root() -> Path:
    return Path(current_app.config["DATA_DIR"]).joinpath(*UPLOADS)


@job("ingest.import")
def import_package(ctx: JobContext, upload: str, collection: str | None = None,
                   dry_run: bool = False, review: bool = False) -> dict[str, object]:
    """Import an uploaded package as its owner; the report is the job's result."""
    root = upload_root().resolve()
    folder = (root / upload).resolve()
    if folder.parent != root:  # the parameter names a folder of ours, nothing else
        raise ValueError("bad upload folder")
    owner = db.session.get(User, ctx.job.owner_id) if ctx.job.owner_id else None
    lang = owner.locale if owner is not None and owner.locale in ("vi", "en") else "vi"
    try:
        [package] = [p for p in folder.iterdir() if not p.is_symlink()]
        with force_locale(lang):
            ctx.progress(0, None, _("Reading the package…"))

            def progress(done: int, total: int | None) -> None:
                if done == 1 or done % 10 == 0 or done == total:
                    ctx.progress(done, total, _("%(done)d of %(total)s lines imported.",
                                                done=done, total=total or "?"))

            report = run_import(owner, package, ImportOptions(
                collection=collection, dry_run=dry_run, review=review, via="web", lang=lang),
                progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report.as_dict()
