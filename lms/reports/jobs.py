"""Large report exports, written by the worker with progress, kept as a blob to download."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import force_locale

from lms.accounts.models import User
from lms.db import utcnow
from lms.errors import PermissionDenied
from lms.extensions import db
from lms.files.stores import get_storage
from lms.jobs import JobContext, job
from lms.reports import exports
from lms.reports.queries import UnitTree
from lms.reports.services import build, count_people, read_query


def export_file(owner: User, args: dict[str, str], fmt: str, out, progress=None) -> dict:
    """Write the report ``args`` describe, as ``owner`` may see it, into ``out``; returns
    the file's name and type. Access is checked again here, when the file is made."""
    now = utcnow()
    tree = UnitTree.load()
    query = read_query(owner, args, tree)
    report = build(owner, query, tree, now)
    lang = owner.locale if owner.locale in ("vi", "en") else "vi"
    stamp = now.strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        rows = exports.write_xlsx(out, report,
                                  exports.people_sheet(report, tree, now, lang, progress))
        return {"filename": f"bao-cao-{stamp}.xlsx", "mimetype": exports.XLSX_TYPE,
                "rows": rows}
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    rows = exports.write_csv(text, exports.people_headers(),
                             exports.people_rows(report, tree, now, lang), progress)
    text.flush()
    text.detach()
    return {"filename": f"hoc-vien-{stamp}.csv", "mimetype": "text/csv; charset=utf-8",
            "rows": rows}


@job("reports.export")
def export_job(ctx: JobContext, args: dict[str, str], fmt: str) -> dict[str, object]:
    """An export too large for a request: the workbook (or the people CSV), as a blob."""
    owner = db.session.get(User, ctx.job.owner_id) if ctx.job.owner_id else None
    if owner is None or not owner.active:
        raise PermissionDenied()
    tmp = Path(current_app.config["DATA_DIR"]) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    tree = UnitTree.load()
    total = count_people(read_query(owner, args, tree).filters, tree)
    ctx.progress(0, total)
    lang = owner.locale if owner.locale in ("vi", "en") else "vi"
    with tempfile.TemporaryFile(dir=tmp) as out, force_locale(lang):
        made = export_file(owner, args, fmt, out, lambda done: ctx.progress(done, total))
        out.seek(0)
        blob = get_storage().put(out)
    return {**made, "blob": blob.key, "size": blob.size}
