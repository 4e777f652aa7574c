"""Display names of the codes the application stores: roles, access levels, statuses, job
states and names, audit events. Pages never show a code itself: templates call the ``*_label``
filters registered by :func:`init_app`, which fall back to the code only for a value added
later without a name (a test walks every page and fails on that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from lms.accounts.models import ROLE_LABELS, RoleName
from lms.catalog.models import RecordStatus, TaskStatus
from lms.models import JobStatus

# Access levels: a short name for tables and pickers, and who that means in plain words.
ACCESS_LABELS: Mapping[str, LazyString] = {
    "public": _l("Public"),
    "internal": _l("All logged-in users"),
    "unit": _l("Selected units"),
    "role": _l("Selected roles"),
    "restricted": _l("Named users and groups"),
}
ACCESS_AUDIENCE: Mapping[str, LazyString] = {
    "public": _l("everyone on the network, without logging in"),
    "internal": _l("everyone who logs in with an account of the academy"),
    "unit": _l("members of the chosen units and their sub-units"),
    "role": _l("holders of the chosen roles"),
    "restricted": _l("only the named users and groups"),
}

RECORD_STATUS_LABELS: Mapping[str, LazyString] = RecordStatus.labels()

TASK_STATUS_LABELS: Mapping[str, LazyString] = TaskStatus.labels()

JOB_STATUS_LABELS: Mapping[str, LazyString] = {
    JobStatus.QUEUED: _l("Queued"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Finished"),
    JobStatus.FAILED: _l("Failed"),
    JobStatus.INTERRUPTED: _l("Interrupted"),
}

JOB_NAME_LABELS: Mapping[str, LazyString] = {
    "catalog.lift_embargoes": _l("Lift expired embargoes"),
    "files.extract": _l("Extract the text of a file"),
    "files.thumbnail": _l("Make a thumbnail"),
    "files.fixity": _l("Check file integrity"),
    "files.gc": _l("Delete unreferenced stored files"),
    "ingest.import": _l("Import records"),
    "mirrors.check": _l("Check search and OAI-PMH against the database"),
    "search.rebuild": _l("Rebuild the search index"),
    "maintenance.expire_throttle_counters": _l("Expire login-throttle counters"),
    "maintenance.expire_sessions": _l("Delete ended sessions"),
    "accounts.people_import": _l("Import people"),
    "harvest.run": _l("Harvest an OAI-PMH source"),
    "harvest.scheduled": _l("Harvest the sources due"),
    "training.audience_sync": _l("Update an audience's members"),
    "training.enrol": _l("Enrol the people of an assignment"),
    "certificates.daily": _l("Certificates: expiries, renewals and clean-up"),
    "certificates.issue": _l("Issue certificates"),
    "notify.reminders": _l("Send reminders and e-mail digests"),
    "quizzes.close_expired": _l("Close quiz attempts whose time is up"),
    "quizzes.regrade": _l("Regrade quiz attempts"),
    "reports.export": _l("Export a report"),
}

WORKFLOW_ACTION_LABELS: Mapping[str, LazyString] = {
    "create": _l("Created"),
    "edit": _l("Edited"),
    "submit": _l("Submitted for review"),
    "claim": _l("Claimed by a curator"),
    "release": _l("Released to the pool"),
    "accept": _l("Accepted (review step)"),
    "return": _l("Returned to the depositor"),
    "publish": _l("Published"),
    "withdraw": _l("Withdrawn"),
    "restore": _l("Restored"),
    "purge": _l("Purged"),
    "access_change": _l("Access changed"),
    "access_request": _l("Access change asked for (waits for a curator)"),
    "access_approve": _l("Access change approved"),
    "access_reject": _l("Access change rejected"),
    "mapping": _l("Shown in other collections"),
    "files_add": _l("Files added"),
    "files_remove": _l("File removed"),
    "embargo_lift": _l("Embargo lifted"),
    "import": _l("Imported (bulk import)"),
}

#: Messages the code itself gives a job (others are the job's own report, shown as they are).
JOB_MESSAGE_LABELS: Mapping[str, LazyString] = {
    "scheduled": _l("Started by the schedule"),
}

AUDIT_OUTCOME_LABELS: Mapping[str, LazyString] = {
    "success": _l("Succeeded"),
    "denied": _l("Refused"),
    "flagged": _l("Flagged"),
    "failure": _l("Failed"),
}

AUDIT_ACTION_LABELS: Mapping[str, LazyString] = {
    "collection_create": _l("Collection created"),
    "collection_update": _l("Collection changed"),
    "embargo_lift": _l("Embargo lifted"),
    "file_access_change": _l("File access changed"),
    "file_access_denied": _l("File access refused"),
    "file_download": _l("Restricted file downloaded"),
    "file_view": _l("Restricted file viewed"),
    "file_remove": _l("File removed"),
    "file_type_mismatch": _l("File content does not match its name"),
    "file_upload": _l("File uploaded"),
    "fixity_failure": _l("File integrity failure"),
    "fixity_restored": _l("File integrity restored"),
    "group_save": _l("Group saved"),
    "login_success": _l("Logged in"),
    "login_failure": _l("Login refused"),
    "login_throttled": _l("Login refused: too many attempts"),
    "csrf_failure": _l("Form refused: expired or forged"),
    "logout": _l("Logged out"),
    "logout_all": _l("Logged out everywhere"),
    "password_change": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "record_access_change": _l("Record access changed"),
    "access_request": _l("Access change asked for"),
    "access_request_reject": _l("Access change rejected"),
    "record_create": _l("Record created"),
    "record_import": _l("Record imported"),
    "record_mapping": _l("Record shown in other collections"),
    "record_publish": _l("Record published"),
    "record_purge": _l("Record purged"),
    "record_restore": _l("Record restored"),
    "record_return": _l("Record returned to its depositor"),
    "record_submit": _l("Record submitted for review"),
    "record_withdraw": _l("Record withdrawn"),
    "unit_create": _l("Unit created"),
    "unit_delete": _l("Unit deleted"),
    "unit_update": _l("Unit changed"),
    "user_activate": _l("Account enabled or disabled"),
    "user_create": _l("Account created"),
    "user_update": _l("Account changed"),
    "people_import": _l("People imported"),
    "people_move": _l("People moved to another unit"),
    "people_passwords_issued": _l("One-time passwords handed out"),
    "person_term_save": _l("List entry saved"),
    "harvest_source_register": _l("Harvest source registered"),
    "harvest_source_update": _l("Harvest source changed"),
    "course_create": _l("Course created"),
    "course_update": _l("Course changed"),
    "course_status": _l("Course published, withdrawn or archived"),
    "course_owners": _l("Course owners changed"),
    "lesson_add": _l("Lesson added"),
    "lesson_update": _l("Lesson changed"),
    "lesson_move": _l("Lesson moved"),
    "lesson_remove": _l("Lesson removed"),
    "track_create": _l("Track created"),
    "track_update": _l("Track changed"),
    "track_courses": _l("Courses of a track changed"),
    "audience_create": _l("Audience created"),
    "audience_update": _l("Audience changed"),
    "audience_rule": _l("Audience rule changed"),
    "audience_add": _l("People added to an audience"),
    "audience_remove": _l("People removed from an audience"),
    "audience_freeze": _l("Audience frozen"),
    "assignment_create": _l("Training assigned"),
    "assignment_due": _l("Due date changed"),
    "assignment_cancel": _l("Assignment cancelled"),
    "bank_category_add": _l("Question category added"),
    "bank_category_remove": _l("Question category removed"),
    "bank_category_rename": _l("Question category renamed"),
    "bank_create": _l("Question bank created"),
    "bank_import": _l("Questions imported"),
    "bank_update": _l("Question bank changed"),
    "certificate_reissue": _l("Certificate reissued"),
    "certificate_revoke": _l("Certificate revoked"),
    "certificate_template_create": _l("Certificate template created"),
    "certificate_template_status": _l("Certificate template state changed"),
    "certificate_template_update": _l("Certificate template changed"),
    "question_archive": _l("Question archived"),
    "question_create": _l("Question created"),
    "question_image_add": _l("Question image added"),
    "question_key_fix": _l("Answer key corrected"),
    "question_update": _l("Question changed"),
    "quiz_create": _l("Quiz created"),
    "quiz_form": _l("Quiz questions chosen"),
    "quiz_grant": _l("Quiz extra attempt or time granted"),
    "quiz_regrade": _l("Quiz regraded"),
    "quiz_status": _l("Quiz state changed"),
    "quiz_update": _l("Quiz changed"),
    "report_target": _l("Report target set"),
    "report_target_delete": _l("Report target removed"),
    "unit_commanders": _l("Unit commanders changed"),
    "verify_throttled": _l("Certificate checks throttled"),
    "api_token_create": _l("API token created"),
    "api_token_revoke": _l("API token revoked"),
    "api_token_failure": _l("API token refused"),
    "api_token_throttled": _l("API tokens throttled"),
}


AUDIT_OBJECT_LABELS: Mapping[str, LazyString] = {
    "records": _l("Record"),
    "record_files": _l("File"),
    "blob": _l("Stored file"),
    "collections": _l("Collection"),
    "users": _l("Account"),
    "units": _l("Unit"),
    "groups": _l("Group"),
    "courses": _l("Course"),
    "tracks": _l("Track"),
    "lessons": _l("Lesson"),
    "audiences": _l("Audience"),
    "assignments": _l("Assignment"),
    "person_terms": _l("List entry"),
    "people_import_batches": _l("People import"),
    "harvest_sources": _l("Harvest source"),
}

FIXITY_STATUS_LABELS: Mapping[str, LazyString] = {
    "ok": _l("Matches"),
    "mismatch": _l("Content changed"),
    "missing": _l("File missing"),
}


def _label(labels: Mapping[str, LazyString], code: object) -> str:
    if code is None:
        return ""
    found = labels.get(str(code))
    return str(found) if found is not None else str(code)


def role_label(code: object) -> str:
    return _label(ROLE_LABELS, code)


def role_labels(codes: Iterable[object]) -> str:
    """Several roles, in the fixed order of :class:`RoleName`, joined with commas."""
    wanted = {str(c) for c in codes}
    return ", ".join(role_label(r) for r in RoleName if str(r) in wanted)


def account_roles(user: object) -> str:
    """The roles an account holds, by their display names (shown, never decided on)."""
    return role_labels(getattr(user, "role_names", ()))


def access_label(code: object) -> str:
    return _label(ACCESS_LABELS, code)


def access_audience(code: object) -> str:
    return _label(ACCESS_AUDIENCE, code)


def status_label(code: object) -> str:
    return _label(RECORD_STATUS_LABELS, code)


def task_status_label(code: object) -> str:
    return _label(TASK_STATUS_LABELS, code)


def job_status_label(code: object) -> str:
    return _label(JOB_STATUS_LABELS, code)


def job_name_label(code: object) -> str:
    return _label(JOB_NAME_LABELS, code)


def job_message(message: object) -> str:
    return _label(JOB_MESSAGE_LABELS, message)


def workflow_action_label(code: object) -> str:
    return _label(WORKFLOW_ACTION_LABELS, code)


def audit_action_label(code: object) -> str:
    return _label(AUDIT_ACTION_LABELS, code)


def audit_outcome_label(code: object) -> str:
    return _label(AUDIT_OUTCOME_LABELS, code)


def audit_object_label(code: object) -> str:
    return _label(AUDIT_OBJECT_LABELS, code)


def fixity_status_label(code: object) -> str:
    return _label(FIXITY_STATUS_LABELS, code)


FILTERS = {
    "role_label": role_label,
    "role_labels": role_labels,
    "account_roles": account_roles,
    "access_label": access_label,
    "access_audience": access_audience,
    "status_label": status_label,
    "task_status_label": task_status_label,
    "job_status_label": job_status_label,
    "job_name_label": job_name_label,
    "job_message": job_message,
    "audit_action_label": audit_action_label,
    "workflow_action_label": workflow_action_label,
    "audit_outcome_label": audit_outcome_label,
    "audit_object_label": audit_object_label,
    "fixity_status_label": fixity_status_label,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
