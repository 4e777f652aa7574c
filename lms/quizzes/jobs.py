"""Jobs of the quizzes: closing attempts whose time ran out (every minute), large regrades."""

from __future__ import annotations

from lms.jobs import JobContext, cron, job
from lms.quizzes import attempts, grading
from lms.uow import unit_of_work


@job("quizzes.close_expired", schedule=cron(minute="*"), keep_idle=False)
def close_expired_attempts(ctx: JobContext) -> dict[str, int]:
    """Close and grade open attempts past their deadline, with the answers saved by then."""
    return {"closed": attempts.close_expired()}


@job("quizzes.regrade")
def regrade(ctx: JobContext, attempt_ids: list[int]) -> dict[str, int]:
    """Recompute graded attempts after a key was corrected (too many to do in the request)."""
    done = changed = 0
    for chunk in (attempt_ids[i:i + grading.CHUNK]
                  for i in range(0, len(attempt_ids), grading.CHUNK)):
        with unit_of_work():
            outcome = grading.regrade_attempts(chunk)
        done += outcome.attempts
        changed += outcome.changed
        ctx.progress(done, len(attempt_ids))
    return {"attempts": done, "changed": changed}
