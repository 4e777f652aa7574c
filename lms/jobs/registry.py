"""Declaring a job: :func:`job` marks a function; :func:`jobs_in` finds the marked functions
of a module. Nothing is registered at import time: the app factory names the job modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass
from types import FunctionType, ModuleType
from typing import Any

JobFunction = Callable[..., dict[str, Any] | None]

#: When a periodic job runs: cron's fields (:data:`CRON_FIELDS`) and their values, as
#: :func:`cron` makes them. The queue turns them into huey's ``crontab`` when it is made, so
#: that a process that never queues a job does not import huey.
Cron = tuple[tuple[str, str], ...]
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")

# The attribute :func:`job` sets on a job function.
SPEC_ATTRIBUTE = "job_spec"


@dataclass(frozen=True)
class JobSpec:
    """A job as :func:`job` declares it; its options are named, as the decorator's are."""

    name: str
    function: JobFunction
    _: KW_ONLY
    schedule: Cron | None = None
    resumable: bool = False
    keep_idle: bool = True


def job(name: str, *, schedule: Cron | None = None, resumable: bool = False,
        keep_idle: bool = True) -> Callable[[JobFunction], JobFunction]:
    """Declare ``function(ctx, **params)`` as the background job ``name``; ``schedule`` makes
    it periodic; ``resumable`` means that, interrupted by the death of its worker, it may be
    queued again and goes on from ``ctx.job.checkpoint``; ``keep_idle=False`` drops the record
    of a scheduled run that did nothing (every value of its result empty or zero), so that a
    job run every minute does not bury the jobs list. The job runs once its module is among
    those given to ``init_app``."""

    def decorator(function: JobFunction) -> JobFunction:
        setattr(function, SPEC_ATTRIBUTE,
                JobSpec(name, function, schedule=schedule, resumable=resumable,
                        keep_idle=keep_idle))
        return function

    return decorator


def cron(**fields: str) -> Cron:
    """A schedule in huey's ``crontab`` terms (``cron(hour="3", minute="41")``); a field left
    out is ``*``.

    :raise ValueError: a field cron does not have.
    """
    unknown = set(fields) - set(CRON_FIELDS)
    if unknown:
        raise ValueError(f"not a cron field: {', '.join(sorted(unknown))}")
    return tuple(sorted(fields.items()))


def spec_of(function: JobFunction) -> JobSpec:
    """:raise ValueError: ``function`` is not declared with :func:`job`."""
    spec = getattr(function, SPEC_ATTRIBUTE, None)
    if not isinstance(spec, JobSpec):
        raise ValueError(f"{function!r} is not declared with @job")
    return spec


def jobs_in(modules: Iterable[ModuleType]) -> list[JobSpec]:
    """The jobs declared in ``modules`` (a job imported into another module counts once).

    :raise ValueError: two different functions are declared under one name.
    """
    found: dict[str, JobSpec] = {}
    for module in modules:
        for value in vars(module).values():
            # type(), not isinstance(): a module's proxies (current_app) need an app context.
            if type(value) is not FunctionType:
                continue
            spec = getattr(value, SPEC_ATTRIBUTE, None)
            if not isinstance(spec, JobSpec):
                continue
            if spec.name in found and found[spec.name].function is not spec.function:
                raise ValueError(f"two jobs are named {spec.name!r}")
            found[spec.name] = spec
    return list(found.values())
