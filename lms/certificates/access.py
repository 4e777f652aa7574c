"""Who may do what with certificates: named rules, joined to the policy by ``lms.permissions``.

A template belongs to its course or track: whoever may edit that (its owners, admins) designs
the template, sees every certificate issued from it, and may revoke and reissue them. A
learner sees and downloads their own certificates. Verifying a code needs no rule: the public
page shows only what the certificate states.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, true

from lms.certificates.models import Certificate, CertificateTemplate
from lms.permissions import Principal, Rule, can, is_user
from lms.training.models import course_owners, track_owners


def _manage_template(user: Principal, template: Any) -> bool:
    if not isinstance(template, CertificateTemplate) or not is_user(user):
        return False
    if template.course is not None:
        return can(user, "course.edit", template.course)
    return can(user, "track.edit", template.track)


def _view_certificate(user: Principal, certificate: Any) -> bool:
    if not isinstance(certificate, Certificate) or not is_user(user):
        return False
    return certificate.user_id == user.id or _manage_template(user, certificate.template)


def _revoke(user: Principal, certificate: Any) -> bool:
    return isinstance(certificate, Certificate) and _manage_template(user,
                                                                     certificate.template)


def managed_templates(user: Principal) -> ColumnElement[bool]:
    """The SQL twin of ``certificate_template.manage``."""
    if not is_user(user):
        return false()
    if user.is_admin:
        return true()
    if not can(user, "training.area"):
        return false()
    return or_(
        exists().where(course_owners.c.course_id == CertificateTemplate.course_id,
                       course_owners.c.user_id == user.id),
        exists().where(track_owners.c.track_id == CertificateTemplate.track_id,
                       track_owners.c.user_id == user.id))


RULES: dict[str, Rule] = {
    # Design a template for a course or track one may edit (``obj``: that course or track).
    "certificate_template.create": lambda user, obj: can(user, "course.edit", obj)
    or can(user, "track.edit", obj),
    "certificate_template.manage": _manage_template,
    # The list of certificates issued from the templates one manages.
    "certificate.list_issued": lambda user, obj: can(user, "training.area"),
    "certificate.view": _view_certificate,
    "certificate.revoke": _revoke,
    "certificate.reissue": _revoke,
}
