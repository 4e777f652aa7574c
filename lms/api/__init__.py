"""The records REST API (``/api/v1/records``, ``/api/v1/collections``) and the personal access
tokens that authenticate it."""
