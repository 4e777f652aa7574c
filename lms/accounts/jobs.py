"""The background job behind the administrators' people import page."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.accounts.models import User
from lms.accounts.people_import import PeopleFileError, PeopleImportOptions, import_people
from lms.extensions import db
from lms.jobs import JobContext, job

#: Uploaded files wait here (under DATA_DIR) for their job, which removes them.
UPLOADS = ("tmp", "people-uploads")


def upload_root() -> Path:
    return Path(current_app.config["DATA_DIR"]).joinpath(*UPLOADS)


@job("accounts.people_import")
def people_import_job(ctx: JobContext, upload: str, dry_run: bool = False,
                      create_units: bool = False, lang: str = "vi") -> dict[str, object]:
    """Import an uploaded people file as its owner; the per-row report is the job's result,
    in ``lang`` (the language of the page the file was sent from)."""
    root = upload_root().resolve()
    folder = (root / upload).resolve()
    if folder.parent != root:  # the parameter names a folder of ours, nothing else
        raise ValueError("bad upload folder")
    owner = db.session.get(User, ctx.job.owner_id) if ctx.job.owner_id else None
    lang = lang if lang in ("vi", "en") else "vi"
    job_id = ctx.job.id
    try:
        [upload_file] = [p for p in folder.iterdir() if not p.is_symlink()]
        with force_locale(lang):
            ctx.progress(0, None, _("Checking the rows…"))

            def progress(done: int, total: int) -> None:
                message = _("%(done)d of %(total)d rows checked.", done=done, total=total)
                if done == total and not dry_run:
                    message = _("All %(total)d rows checked; applying them…", total=total)
                ctx.progress(done, total, message)

            try:
                report = import_people(owner, upload_file, PeopleImportOptions(
                    dry_run=dry_run, create_units=create_units, via="web"), progress,
                    job_id=job_id)
            except PeopleFileError as error:
                return {"file_error": error.message, "source": upload_file.name}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report.as_dict()
