"""Exceptions for configuration errors (never raised for user data)."""


class ProfileError(Exception):
    """The application profile or a vocabulary file is invalid.

    This is a configuration error: it is raised at start-up, never for a record's data.
    """
