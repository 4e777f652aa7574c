from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from lms import audit
from lms.accounts import services
from lms.accounts.access import DEFAULT_ROLES
from lms.accounts.models import ROLE_LABELS, PersonTerm, RoleName, TermKind, User
from lms.admin.forms import GroupForm, MovePeopleForm, TermForm, UnitForm, UserForm
from lms.auth.forms import EmptyForm
from lms.auth.services import find_user
from lms.errors import PermissionDenied, ValidationError
from lms.extensions import db
from lms.permissions import can
from lms.web import flash_outcome, guard_blueprint, page_of, request_int, save_edit

bp = Blueprint("admin", __name__)
guard_blueprint(bp, "user.manage")


def _unit_options() -> list[tuple[int, str]]:
    """(id, indented name) for every unit in tree order, after a "none" entry with id 0."""
    options = [(0, "—")]
    for unit, depth in services.unit_tree():
        options.append((unit.id, "\u00a0\u00a0" * depth + unit.name))
    return options


def _unit_choices() -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in _unit_options()]


def _group_choices() -> list[SelectChoice]:
    return [SelectChoice(g.id, g.name) for g in services.all_groups()]


def _optional_unit(unit_id: int | None):
    return services.get_unit(unit_id) if unit_id else None


def _term_choices(kind: TermKind, current: PersonTerm | None = None) -> list[SelectChoice]:
    """Entries in use, plus the person's current one even if it was retired since."""
    lang = str(get_locale() or "vi")
    terms = services.list_terms(kind, active_only=True)
    if current is not None and current not in terms:
        terms.append(current)
    return [SelectChoice(0, "—")] + [SelectChoice(t.id, t.label(lang)) for t in terms]


def _prepare_user_form(form: UserForm, user: User | None) -> None:
    form.unit_id.choices = _unit_choices()
    form.groups.choices = _group_choices()
    form.rank_id.choices = _term_choices(TermKind.RANK, user.rank if user else None)
    form.position_id.choices = _term_choices(TermKind.POSITION,
                                             user.position if user else None)
    form.target_group_id.choices = _term_choices(TermKind.TARGET_GROUP,
                                                 user.target_group if user else None)


def _profile_from(form: UserForm) -> services.Profile:
    return services.Profile(
        full_name=form.full_name.data or "",
        email=form.email.data,
        person_code=form.person_code.data,
        rank=services.get_term(form.rank_id.data, TermKind.RANK),
        position=services.get_term(form.position_id.data, TermKind.POSITION),
        target_group=services.get_term(form.target_group_id.data, TermKind.TARGET_GROUP),
        cohort=form.cohort.data,
        class_name=form.class_name.data,
        cohort_year=form.cohort_year.data,
    )


# --- users ---------------------------------------------------------------------------------

@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    query = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    role = role if role in {str(r) for r in RoleName} else ""
    unit_id = request.args.get("unit", type=request_int)
    status = request.args.get("status", "")
    active = {"active": True, "inactive": False}.get(status)
    stmt = services.list_users(query=query, role=role, unit_id=unit_id, active=active)
    page = page_of(stmt, 50)
    move_form = MovePeopleForm()
    move_form.unit_id.choices = _unit_choices()
    return render_template("admin/users.html", page=page, units=_unit_options(),
                           filters={"q": query, "role": role, "unit": unit_id or 0,
                                    "status": status}, action_form=EmptyForm(),
                           move_form=move_form, role_labels=ROLE_LABELS)


@bp.post("/users/move")
def users_move():
    """Move the people ticked on the list to one unit (their audiences follow)."""
    form = MovePeopleForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        ids = request.form.getlist("user_ids", type=request_int)
        if not ids:
            flash(_("Tick the people to move first."), "error")
        else:
            unit = _optional_unit(form.unit_id.data)
            moved = services.move_people(current_user, ids, unit)
            flash(_("%(n)d people moved to %(unit)s.", n=moved,
                    unit=unit.path if unit else "—"), "success")
    return redirect(request.form.get("back") if _is_users_url(request.form.get("back"))
                    else url_for("admin.users"))


def _is_users_url(url: str | None) -> bool:
    # Back to the filtered list the form came from, and nowhere else.
    return bool(url) and url.startswith("/admin/users") and "//" not in url \
        and "\\" not in url


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    _prepare_user_form(form, None)
    if request.method == "GET":
        form.roles.data = list(DEFAULT_ROLES)
    if form.validate_on_submit():
        unit = _optional_unit(form.unit_id.data)
        with flash_outcome() as outcome:
            data = services.UserInput(
                username=form.username.data,
                profile=_profile_from(form),
                password=form.password.data or None,
                roles=tuple(form.roles.data),
                unit_path=unit.path if unit else None,
                groups=tuple(services.get_group(g) for g in form.groups.data or ()),
            )
            user, generated = services.create_user(current_user, data)
        if outcome.failed:
            return render_template("admin/user_form.html", form=form, user=None), \
                outcome.error.status
        if generated:
            flash(_("Account %(name)s created. Its one-time password is: %(pw)s",
                    name=user.username, pw=generated), "success")
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    _prepare_user_form(form, user)
    # The username is fixed once created; the form shows it read-only.
    form.username.data = user.username
    if request.method == "GET":
        form.unit_id.data = user.unit_id or 0
        form.rank_id.data = user.rank_id or 0
        form.position_id.data = user.position_id or 0
        form.target_group_id.data = user.target_group_id or 0
        form.roles.data = [role.name for role in user.roles]
        form.groups.data = [g.id for g in user.groups]
    status = save_edit(form, user, _("Changes to %(name)s saved.", name=user.username),
                       lambda: services.update_user(
                           current_user, user,
                           profile=_profile_from(form),
                           unit=_optional_unit(form.unit_id.data),
                           roles=form.roles.data,
                           groups=[services.get_group(g) for g in form.groups.data or []]))
    if status is None:
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user,
                           action_form=EmptyForm()), status


@bp.post("/users/<int:user_id>/reset-password")
def user_reset_password(user_id: int):
    user = services.get_user(user_id)
    password = services.reset_password(current_user, user)
    flash(_("New one-time password for %(name)s: %(pw)s. It must be changed at next login.",
            name=user.username, pw=password), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
def user_set_active(user_id: int):
    user = services.get_user(user_id)
    active = request.form.get("active") == "1"
    services.set_active(current_user, user, active)
    flash(_("Account enabled.") if active else _("Account disabled."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- controlled lists: ranks, positions, target groups -------------------------------------

@bp.route("/lists/<kind>", methods=["GET", "POST"])
def terms(kind: str):
    term_kind = services.term_kind(kind)
    form = TermForm()
    status = 200
    if form.validate_on_submit():
        with flash_outcome() as outcome:
            services.save_term(current_user, term_kind, None, name=form.name.data,
                               name_en=form.name_en.data or "",
                               sort_order=form.sort_order.data, active=True)
            outcome.success = _("%(name)s added.", name=form.name.data.strip())
        if outcome.failed:
            status = outcome.error.status
        else:
            return redirect(url_for("admin.terms", kind=kind))
    elif request.method == "POST":
        status = 400
    return render_template("admin/terms.html", kind=term_kind, form=form,
                           kind_label=services.TERM_KIND_LABELS[term_kind],
                           terms=services.list_terms(term_kind),
                           kinds=services.TERM_KIND_LABELS), status


@bp.post("/lists/<kind>/<int:term_id>")
def term_edit(kind: str, term_id: int):
    term_kind = services.term_kind(kind)
    term = services.get_term(term_id, term_kind)
    form = TermForm()
    if form.validate_on_submit():
        with flash_outcome() as outcome:
            services.save_term(current_user, term_kind, term, name=form.name.data,
                               name_en=form.name_en.data or "",
                               sort_order=form.sort_order.data, active=form.active.data)
            outcome.success = _("%(name)s saved.", name=term.name)
    else:
        flash(_("The entry was not saved: check the name."), "error")
    return redirect(url_for("admin.terms", kind=kind))


# --- units ---------------------------------------------------------------------------------

@bp.route("/units", methods=["GET", "POST"])
def units():
    form = UnitForm()
    form.parent_id.choices = _unit_choices()
    if form.validate_on_submit():
        with flash_outcome(_("Unit created.")) as outcome:
            services.create_unit(current_user, form.name.data,
                                 _optional_unit(form.parent_id.data))
        if outcome.failed:
            return render_template("admin/units.html", form=form, tree=services.unit_tree(),
                                   action_form=EmptyForm()), outcome.error.status
        return redirect(url_for("admin.units"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/units.html", form=form, tree=services.unit_tree(),
                           action_form=EmptyForm()), status


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    unit = services.get_unit(unit_id)
    form = UnitForm(obj=unit if request.method == "GET" else None)
    # Offer every unit as a parent: choosing a descendant is refused with a clear message.
    form.parent_id.choices = _unit_choices()
    if request.method == "GET":
        form.parent_id.data = unit.parent_id or 0
    status = save_edit(form, unit, _("Unit saved."), lambda: services.update_unit(
        current_user, unit, name=form.name.data, parent=_optional_unit(form.parent_id.data)))
    if status is None:
        return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit,
                           action_form=EmptyForm()), status


@bp.post("/units/<int:unit_id>/commanders")
def unit_commanders(unit_id: int):
    unit = services.get_unit(unit_id)
    names = request.form.get("commanders", "").replace(",", "\n").splitlines()
    with flash_outcome(_("Commanders saved.")):
        services.set_commanders(current_user, unit, names)
    return redirect(url_for("admin.unit_edit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/delete")
def unit_delete(unit_id: int):
    unit = services.get_unit(unit_id)
    services.delete_unit(current_user, unit)
    flash(_("Unit deleted."), "success")
    return redirect(url_for("admin.units"))


# --- groups --------------------------------------------------------------------------------

@bp.get("/groups")
def groups():
    return render_template("admin/groups.html", groups=services.all_groups())


@bp.route("/groups/new", methods=["GET", "POST"], defaults={"group_id": None})
@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int | None):
    group = services.get_group(group_id) if group_id else None
    form = GroupForm(obj=group if request.method == "GET" else None)
    if request.method == "GET" and group is not None:
        form.members.data = "\n".join(u.username for u in group.members)
    if form.validate_on_submit():
        with flash_outcome(_("Group saved.")) as outcome:
            members = []
            for name in (form.members.data or "").split():
                user = find_user(name)
                if user is None:
                    raise ValidationError(_("No user named %(name)s.", name=name))
                members.append(user)
            group = services.save_group(current_user, group, name=form.name.data,
                                        description=form.description.data or "", members=members)
        if outcome.failed:
            return render_template("admin/group_form.html", form=form, group=group), \
                outcome.error.status
        return redirect(url_for("admin.groups"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/group_form.html", form=form, group=group), status


# --- audit log -----------------------------------------------------------------------------

def _parse_day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@bp.get("/audit")
def audit_log():
    if not can(current_user, "audit.view"):
        raise PermissionDenied()
    args = request.args
    filters = {key: args.get(key, "")[:64] for key in ("action", "actor", "outcome", "since",
                                                        "until")}
    stmt = audit.events(action=filters["action"], actor=filters["actor"],
                        outcome=filters["outcome"], since=_parse_day(filters["since"]),
                        until=_parse_day(filters["until"], end=True))
    page = db.paginate(stmt, page=args.get("page", 1, type=request_int),
                       per_page=current_app.config["AUDIT_PAGE_SIZE"], error_out=False)
    actions = audit.logged_actions()
    return render_template("admin/audit.html", page=page, filters=filters, actions=actions)
