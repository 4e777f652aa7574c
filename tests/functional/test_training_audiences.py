"""Audiences over HTTP: rules with a preview, automatic membership, frozen rules, static lists,
and who may manage which audience."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select, update

from lms.extensions import db
from lms.models import Job
from lms.training.models import Audience, AudienceMember
from tests.functional.test_admin import edit_form
from tests.training_world import (
    apply_rule,
    create_audience,
    flashes,
    follow,
    lock_on,
    preview_rule,
    signed_in,
    text,
    user_id,
)

pytestmark = pytest.mark.functional


def members(app, audience_id: int, *, current: bool = True) -> dict[str, tuple]:
    """username → (started_at, ended_at) of the audience's stays."""
    from lms.accounts.models import User

    with app.app_context():
        stmt = select(User.username, AudienceMember.started_at, AudienceMember.ended_at).join(
            User, User.id == AudienceMember.user_id).where(
            AudienceMember.audience_id == audience_id)
        if current:
            stmt = stmt.where(AudienceMember.ended_at.is_(None))
        return {name: (start, end) for name, start, end in db.session.execute(stmt)}


def audience_row(app, audience_id: int) -> Audience:
    with app.app_context():
        found = db.session.get(Audience, audience_id)
        db.session.expunge(found)
        return found


def test_a_rule_shows_who_joins_before_it_takes_effect(app, world, trainer):
    audience_id = create_audience(trainer, "Khoa Hậu cần", scope_unit=world.academy)
    preview = preview_rule(trainer, audience_id, g0={"unit": [world.faculty], "subunits": True})
    assert preview.status_code == 200
    page = text(preview)
    assert "3 join, 0 leave; 3 members afterwards." in page
    for name in ("Phạm Văn Một", "Phạm Văn Hai", "Phạm Văn Ba"):
        assert name in page
    assert "Đỗ Thị Kế" not in page
    # Nothing changed yet.
    assert members(app, audience_id) == {}

    response = apply_rule(trainer, audience_id, g0={"unit": [world.faculty], "subunits": True})
    assert "The rule is saved: 3 joined, 0 left." in flashes(follow(trainer, response))
    stays = members(app, audience_id)
    assert sorted(stays) == ["hv1", "hv2", "hv3"]
    assert all(start is not None and end is None for start, end in stays.values())
    assert audience_row(app, audience_id).member_count == 3


def test_without_sub_units_a_unit_condition_takes_its_own_people_only(app, world, trainer):
    audience_id = create_audience(trainer, "Chỉ Khoa", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [world.faculty], "subunits": False})
    assert members(app, audience_id) == {}
    apply_rule(trainer, audience_id, g0={"unit": [world.class1], "subunits": False})
    assert sorted(members(app, audience_id)) == ["hv1", "hv2"]


def test_groups_combine_with_and_or(app, world, trainer):
    audience_id = create_audience(trainer, "Kết hợp", scope_unit=world.academy)
    # (Lớp 1 AND role trainer) OR (Khoa Tài chính): only kt1 and trainer2.
    response = apply_rule(trainer, audience_id, combine="any",
                          g0={"unit": [world.class1], "role": ["trainer"]},
                          g1={"unit": [world.other_faculty], "subunits": True})
    assert response.status_code == 302
    assert sorted(members(app, audience_id)) == ["kt1", "trainer2"]
    # Within a group, "any": Lớp 1 or Lớp 2.
    apply_rule(trainer, audience_id, g0={"combine": "any", "unit": [world.class1],
                                         "role": ["curator"]})
    assert sorted(members(app, audience_id)) == ["curator", "hv1", "hv2"]


def test_rules_matching_nobody_or_everybody_are_shown_as_such(app, world, trainer):
    audience_id = create_audience(trainer, "Không ai", scope_unit=world.class1)
    nobody = text(preview_rule(trainer, audience_id, g0={"cohort": "K99"}))
    assert "This rule matches nobody: the audience will be empty." in nobody
    everybody = text(preview_rule(trainer, audience_id, g0={"role": ["learner"]}))
    assert "This rule matches everyone (2 people) of the audience’s unit." in everybody


def test_membership_follows_a_persons_unit_with_start_and_end(app, world, trainer):
    audience_id = create_audience(trainer, "Lớp 1", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"unit": [world.class1], "subunits": True})
    admin = signed_in(app, "admin")
    hv3 = user_id(app, "hv3")
    # hv3 moves into Lớp 1: joins at once.
    response = admin.post(f"/admin/users/{hv3}", edit_form(app, "hv3",
                          unit_id=str(world.class1)), page=f"/admin/users/{hv3}")
    assert response.status_code == 302
    assert "hv3" in members(app, audience_id)
    # hv1 moves out: the stay ends, and is kept.
    hv1 = user_id(app, "hv1")
    admin.post(f"/admin/users/{hv1}", edit_form(app, "hv1", unit_id=str(world.class2)),
               page=f"/admin/users/{hv1}")
    assert "hv1" not in members(app, audience_id)
    start, end = members(app, audience_id, current=False)["hv1"]
    assert end is not None and end >= start
    # Moved back: a new stay starts; the old one stays ended.
    admin.post(f"/admin/users/{hv1}", edit_form(app, "hv1", unit_id=str(world.class1)),
               page=f"/admin/users/{hv1}")
    with app.app_context():
        stays = db.session.scalars(select(AudienceMember).where(
            AudienceMember.audience_id == audience_id,
            AudienceMember.user_id == hv1).order_by(AudienceMember.id)).all()
        assert [s.ended_at is None for s in stays] == [False, True]


def test_rules_on_rank_position_target_group_cohort_and_year(app, world, trainer):
    from lms.accounts.models import PersonTerm, User

    with app.app_context():
        rank = db.session.scalar(select(PersonTerm.id).where(PersonTerm.code == "binh-nhi"))
        group = db.session.scalar(select(PersonTerm.id).where(PersonTerm.code == "cadets"))
        db.session.execute(update(User).where(User.username.in_(["hv1", "hv3"])).values(
            rank_id=rank, target_group_id=group, cohort="K45", cohort_year=1))
        db.session.execute(update(User).where(User.username == "hv2").values(
            rank_id=rank, cohort="K46", cohort_year=2))
        db.session.commit()
    audience_id = create_audience(trainer, "Học viên K45", scope_unit=world.academy)
    apply_rule(trainer, audience_id, g0={"rank": [rank], "target_group": [group],
                                         "cohort": "k45", "cohort_year": "1"})
    assert sorted(members(app, audience_id)) == ["hv1", "hv3"]


def test_an_audience_built_on_another_follows_it(app, world, trainer):
    base = create_audience(trainer, "Tĩnh", kind="static", scope_unit=world.academy)
    trainer.post(f"/train/audiences/{base}/members", {"usernames": "hv1\nkt1"},
                 page=f"/train/audiences/{base}")
    derived = create_audience(trainer, "Tĩnh trong Khoa Hậu cần", scope_unit=world.academy)
    apply_rule(trainer, derived, g0={"audience": [base], "unit": [world.faculty],
                                     "subunits": True})
    assert sorted(members(app, derived)) == ["hv1"]
    trainer.post(f"/train/audiences/{base}/members", {"usernames": "hv2"},
                 page=f"/train/audiences/{base}")
    assert sorted(members(app, derived)) == ["hv1", "hv2"]
    # A rule may not lead back to itself.
    page = f"/train/audiences/{base}/rule"
    assert trainer.client.get(page).status_code == 404  # a static audience has no rule
    looped = preview_rule(trainer, derived, g0={"audience": [derived]})
    assert looped.status_code == 422


def test_a_rule_on_a_deleted_unit_freezes_the_audience(app, world, trainer):
    from lms.accounts.models import Unit
    from tests.factories import UnitFactory

    with app.app_context():
        empty = UnitFactory(name="Lớp sắp giải thể", parent=db.session.get(Unit, world.faculty))
        db.session.commit()
        empty_id = empty.id
    audience_id = create_audience(trainer, "Lớp 1 hoặc lớp cũ", scope_unit=world.academy)
    apply_rule(trainer, audience_id, combine="any", g0={"unit": [world.class1]},
               g1={"unit": [empty_id]})
    assert sorted(members(app, audience_id)) == ["hv1", "hv2"]

    admin = signed_in(app, "admin")
    response = admin.post(f"/admin/units/{empty_id}/delete", page="/admin/units")
    assert response.status_code == 302
    frozen = audience_row(app, audience_id)
    assert frozen.state == "frozen"
    assert frozen.frozen_reason == "The rule names a unit that was deleted."
    # Frozen: the members stay, even when people move.
    hv1 = user_id(app, "hv1")
    admin.post(f"/admin/users/{hv1}", edit_form(app, "hv1", unit_id=str(world.class2)),
               page=f"/admin/users/{hv1}")
    assert sorted(members(app, audience_id)) == ["hv1", "hv2"]
    page = text(trainer.client.get(f"/train/audiences/{audience_id}"))
    assert "Membership is frozen: The rule names a unit that was deleted." in page
    # The rule still naming it cannot be saved again; a fixed rule unfreezes.
    stale = preview_rule(trainer, audience_id, g0={"unit": [empty_id]})
    assert stale.status_code == 422
    assert "The rule names a unit that was deleted." in flashes(stale)
    apply_rule(trainer, audience_id, g0={"unit": [world.class1]})
    assert audience_row(app, audience_id).state == "active"
    assert sorted(members(app, audience_id)) == ["hv2"]


def test_a_head_request_to_the_rule_editor_changes_nothing(app, world, trainer):
    # HEAD carries no CSRF check: only a POST may act, even with a form body.
    audience_id = create_audience(trainer, "Chỉ xem", scope_unit=world.academy)
    page = f"/train/audiences/{audience_id}/rule"
    rule = {"combine": "all", "groups": [{"combine": "all", "conditions": [
        {"field": "unit", "values": [world.faculty], "subunits": True}]}]}
    response = trainer.client.open(page, method="HEAD", data={
        "action": "apply", "rule_json": json.dumps(rule), "lock_version": lock_on(trainer, page)})
    assert response.status_code == 200
    assert members(app, audience_id) == {}
    assert audience_row(app, audience_id).rule == {"combine": "all", "groups": []}


def test_two_trainers_applying_rules_at_once_one_is_told(app, world, trainer):
    audience_id = create_audience(trainer, "Tranh chấp", scope_unit=world.academy)
    page = f"/train/audiences/{audience_id}/rule"
    lock = lock_on(trainer, page)

    first = trainer.post(page, {"action": "apply", "lock_version": lock, "rule_json": json.dumps(
        {"combine": "all", "groups": [{"combine": "all", "conditions": [
            {"field": "unit", "values": [world.class1], "subunits": True}]}]})}, page=page)
    assert first.status_code == 302
    second = trainer.post(page, {"action": "apply", "lock_version": lock, "rule_json": json.dumps(
        {"combine": "all", "groups": [{"combine": "all", "conditions": [
            {"field": "unit", "values": [world.class2], "subunits": True}]}]})}, page=page)
    assert second.status_code == 409
    assert ("This audience was changed since you opened it. Reload it to see the changes, "
            "then make yours again.") in flashes(second)
    assert sorted(members(app, audience_id)) == ["hv1", "hv2"]


def test_a_large_rule_change_is_left_to_a_job(app, world, trainer):
    app.config["AUDIENCE_INLINE_CHANGES"] = 2
    audience_id = create_audience(trainer, "Lớn", scope_unit=world.academy)
    response = apply_rule(trainer, audience_id, g0={"unit": [world.faculty], "subunits": True})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/jobs/")
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.name == "training.audience_sync"))
        assert (job.status, job.result) == ("done", {"joined": 3, "left": 0})
    assert sorted(members(app, audience_id)) == ["hv1", "hv2", "hv3"]


def test_static_audience_by_names_by_file_and_by_search(app, world, trainer):
    audience_id = create_audience(trainer, "Đội tuyển", kind="static", scope_unit=world.faculty)
    page = f"/train/audiences/{audience_id}"
    response = trainer.post(f"{page}/members", {"usernames": "hv1"}, page=page)
    assert "1 people added." in flashes(follow(trainer, response))
    csv_file = (io.BytesIO(b"username\nhv2\n"), "ds.csv")
    response = trainer.post(f"{page}/members", {"file": csv_file}, page=page,
                            content_type="multipart/form-data")
    assert "1 people added." in flashes(follow(trainer, response))
    found = text(trainer.client.get(f"{page}?find=Phạm"))
    assert f'value="{user_id(app, "hv3")}"' in found
    trainer.post(f"{page}/members", {"user_ids": str(user_id(app, "hv3"))}, page=page)
    assert sorted(members(app, audience_id)) == ["hv1", "hv2", "hv3"]
    # Unknown names and people outside the audience's unit are refused, with the names.
    response = trainer.post(f"{page}/members", {"usernames": "ghost\nhv1"}, page=page)
    assert "No such people: ghost." in flashes(follow(trainer, response))
    response = trainer.post(f"{page}/members", {"usernames": "kt1"}, page=page)
    assert "Not in this audience's unit: kt1." in flashes(follow(trainer, response))
    # Removing ends the stay.
    response = trainer.post(f"{page}/members/remove", {"user_ids": str(user_id(app, "hv2"))},
                            page=page)
    assert "1 people removed." in flashes(follow(trainer, response))
    assert sorted(members(app, audience_id)) == ["hv1", "hv3"]
    assert members(app, audience_id, current=False)["hv2"][1] is not None


def test_renaming_an_audience_refuses_an_empty_name_and_a_stale_form(app, world, trainer):
    audience_id = create_audience(trainer, "Đội tuyển", kind="static", scope_unit=world.faculty)
    page = f"/train/audiences/{audience_id}"
    lock = lock_on(trainer, page)

    empty = trainer.post(page, {"name": "", "description": "", "lock_version": lock}, page=page)
    assert empty.status_code == 400
    renamed = trainer.post(page, {"name": "Đội tuyển tin học", "description": "Khóa 2026",
                                  "lock_version": lock}, page=page)
    assert renamed.status_code == 302
    assert "Audience saved." in flashes(follow(trainer, renamed))
    # A second tab opened before the rename: refused, and what was typed there is kept.
    stale = trainer.post(page, {"name": "Tên cũ sửa lại", "description": "",
                                "lock_version": lock}, page=page)
    assert stale.status_code == 409
    assert flashes(stale) == ["This audience was changed since you opened it. Reload it to see "
                              "the changes, then make yours again."]
    assert 'value="Tên cũ sửa lại"' in text(stale)
    with app.app_context():
        stored = db.session.get(Audience, audience_id)
        assert (stored.name, stored.description) == ("Đội tuyển tin học", "Khóa 2026")


def test_trainers_manage_audiences_within_their_unit_only(app, world, trainer):
    finance = signed_in(app, "trainer2")
    mine = create_audience(trainer, "Của học viện", scope_unit=world.faculty)
    assert finance.client.get(f"/train/audiences/{mine}").status_code == 404
    assert finance.client.get(f"/train/audiences/{mine}/rule").status_code == 404
    # Their own unit only; the whole academy is for admins.
    refused = finance.post("/train/audiences/new", {"name": "Lạm quyền", "kind": "rule",
                                                    "scope_unit_id": str(world.faculty)},
                           page="/train/audiences/new")
    assert refused.status_code == 400
    whole = finance.post("/train/audiences/new", {"name": "Toàn học viện", "kind": "rule",
                                                  "scope_unit_id": "0"},
                         page="/train/audiences/new")
    assert whole.status_code == 400
    own = create_audience(finance, "Khoa Tài chính", scope_unit=world.other_faculty)
    # Whatever the rule says, members come from the audience's unit.
    apply_rule(finance, own, g0={"role": ["learner"]})
    assert sorted(members(app, own)) == ["kt1"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Audience.id))) == 2


def test_learners_cannot_enter_the_training_area(app, world):
    learner = signed_in(app, "hv1")
    response = learner.client.get("/train/audiences")
    assert response.status_code == 403
    assert "The training area is for training officers." in text(response)
