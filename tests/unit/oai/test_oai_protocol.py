"""lms.oai.protocol without HTTP: verb and argument checks, dates, identifiers, resumption
tokens and the error code each mistake gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms.oai import protocol
from lms.oai.protocol import OaiError, check_arguments, parse_date, record_id_of


def code_of(call) -> str:
    with pytest.raises(OaiError) as raised:
        call()
    return raised.value.code


@pytest.mark.parametrize("args, code", [
    ({}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": ["ListEverything"]}, "badVerb"),
    ({"verb": ["Identify"], "metadataPrefix": ["oai_dc"]}, "badArgument"),
    ({"verb": ["ListRecords"]}, "badArgument"),  # metadataPrefix is required
    ({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc", "qdc"]}, "badArgument"),
    ({"verb": ["ListRecords"], "resumptionToken": ["x"], "metadataPrefix": ["oai_dc"]},
     "badArgument"),  # the token is exclusive
    ({"verb": ["GetRecord"], "identifier": ["oai:x:1"]}, "badArgument"),
])
def test_bad_requests_get_their_error_code(args, code):
    assert code_of(lambda: check_arguments(args)) == code


def test_a_good_request_gives_its_verb_and_single_values():
    assert check_arguments({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"],
                            "from": ["2026-01-01"]}) == (
        "ListRecords", {"metadataPrefix": "oai_dc", "from": "2026-01-01"})
    assert check_arguments({"verb": ["ListRecords"], "resumptionToken": ["abc"]}) == (
        "ListRecords", {"resumptionToken": "abc"})


def test_dates_are_inclusive_bounds_at_their_granularity():
    assert parse_date("2026-03-01", end=False) == (datetime(2026, 3, 1, tzinfo=UTC), "day")
    assert parse_date("2026-03-01", end=True) == (datetime(2026, 3, 2, tzinfo=UTC), "day")
    assert parse_date("2026-03-01T10:00:00Z", end=True) == (
        datetime(2026, 3, 1, 10, 0, 1, tzinfo=UTC), "second")


@pytest.mark.parametrize("value", ["2026-02-30", "2026-3-1", "2026-03-01T10:00:00",
                                   "yesterday", "2026-03-01T25:00:00Z"])
def test_malformed_or_impossible_dates_are_bad_arguments(value):
    assert code_of(lambda: parse_date(value, end=False)) == "badArgument"


def test_identifiers_name_a_record_of_this_repository_only(app_ctx):
    repository = app_ctx.config["OAI_REPOSITORY_ID"]
    assert record_id_of(f"oai:{repository}:42") == 42
    assert record_id_of("oai:elsewhere.org:42") is None
    assert record_id_of(f"oai:{repository}:42abc") is None
    assert record_id_of(f"oai:{repository}:" + "9" * 12) is None


def test_a_token_is_read_back_only_for_its_own_verb(app_ctx):
    token = protocol._dump_token({"verb": "ListIdentifiers", "cursor": 10})
    assert protocol._load_token(token, "ListIdentifiers") == {"verb": "ListIdentifiers",
                                                              "cursor": 10}
    with pytest.raises(OaiError, match="belongs to another request") as raised:
        protocol._load_token(token, "ListRecords")
    assert raised.value.code == "badResumptionToken"


def test_a_tampered_or_foreign_token_is_a_bad_resumption_token(app_ctx):
    token = protocol._dump_token({"verb": "ListRecords", "cursor": 10})
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(OaiError, match=r"The resumption token is invalid\."):
        protocol._load_token(tampered, "ListRecords")
    app_ctx.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-012345"
    with pytest.raises(OaiError, match=r"The resumption token is invalid\."):
        protocol._load_token(token, "ListRecords")
