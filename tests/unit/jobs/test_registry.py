"""Declaring jobs: the spec a declaration makes, schedules, and finding a module's jobs."""

from __future__ import annotations

import types

import pytest

from lms.jobs.registry import JobSpec, cron, job, jobs_in, spec_of


def test_a_declaration_keeps_its_options_on_the_function():
    @job("example", schedule=cron(minute="*/5"), resumable=True, keep_idle=False)
    def example(ctx):
        return None

    assert spec_of(example) == JobSpec("example", example, schedule=(("minute", "*/5"),),
                                       resumable=True, keep_idle=False)


def test_a_spec_takes_its_options_by_name_only():
    with pytest.raises(TypeError):
        JobSpec("example", print, None, True)  # type: ignore[misc]


def test_a_schedule_refuses_a_field_cron_does_not_have():
    with pytest.raises(ValueError, match="not a cron field: second"):
        cron(second="5")


def test_a_function_not_declared_as_a_job_has_no_spec():
    with pytest.raises(ValueError, match="is not declared with @job"):
        spec_of(print)


def test_a_job_imported_into_a_second_module_is_found_once():
    @job("shared")
    def shared(ctx):
        return None

    first, second = types.ModuleType("first"), types.ModuleType("second")
    first.shared = second.shared = shared
    assert [spec.name for spec in jobs_in([first, second])] == ["shared"]
