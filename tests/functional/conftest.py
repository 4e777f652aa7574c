"""Fixtures of the functional tests, beyond those of ``tests/conftest.py``."""

from tests.training_world import trainer, world  # noqa: F401  (fixtures of the training tests)
