"""``jsonld``: schema.org ``LearningResource`` JSON-LD.

The context is written inline (no processor has to fetch https://schema.org on a closed
network): ``@vocab`` is schema.org's own vocabulary IRI, ``http://schema.org/``, as in the
context schema.org publishes, and the properties whose values are links are typed ``@id``.

Mapping: title -> name, alternative -> alternateName, creator -> author and contributor ->
contributor (Person with familyName/givenName, or Organization: :mod:`metadata.agents`),
abstract -> abstract, description -> description, issued/created/modified ->
datePublished/dateCreated/dateModified, language -> inLanguage,
subject -> keywords (+ about: DefinedTerm for vocabulary subjects), educationLevel ->
educationalLevel, audience -> audience (EducationalAudience, educationalRole = slug),
type -> learningResourceType, instructionalMethod -> educationalUse, format ->
encodingFormat, publisher / rightsHolder -> publisher / copyrightHolder (Organization),
license -> license, rights -> copyrightNotice, accessRights -> conditionsOfAccess,
isPartOf -> isPartOf, spatial/temporal -> spatialCoverage/temporalCoverage, identifiers ->
identifier, the record URL -> url and @id, the PDF -> encoding (MediaObject).
Language-tagged text is written as ``{"@value": ..., "@language": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from metadata.agents import agent
from metadata.crosswalks.base import Display, RecordContext, displays
from metadata.model import Metadata
from metadata.profile import Profile

JsonValue = str | dict[str, Any]

SCHEMA_ORG = "http://schema.org/"
CONTEXT: dict[str, Any] = {
    "@vocab": SCHEMA_ORG,
    "schema": SCHEMA_ORG,
    **{name: {"@type": "@id"} for name in ("url", "license", "contentUrl", "sameAs")},
}


def _value(item: Display) -> JsonValue:
    return {"@value": item.text, "@language": item.lang} if item.lang else item.text


def _one_or_many(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def _agents(kind: str, items: list[Display]) -> list[dict[str, Any]]:
    return [{"@type": kind, "name": _value(item)} for item in items]


def _people_or_organisations(metadata: Metadata, term: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in dict.fromkeys(metadata.values(term)):
        who = agent(value)
        if who.is_organisation:
            out.append({"@type": "Organization", "name": who.name})
            continue
        person: dict[str, Any] = {"@type": "Person", "name": who.name}
        if who.family:
            person["familyName"] = who.family
        if who.given:
            person["givenName"] = who.given
        out.append(person)
    return out


def _defined_terms(metadata: Metadata, term: str, profile: Profile) -> list[dict[str, Any]]:
    out = []
    for statement in metadata.get(term):
        if statement.scheme in profile.vocabularies and statement.scheme != "DCMIType":
            vocabulary = profile.vocabulary(statement.scheme)
            if vocabulary.contains(statement.value):
                labels = vocabulary.concept(statement.value).labels
                out.append({
                    "@type": "DefinedTerm",
                    "termCode": statement.value,
                    "name": [{"@value": labels[lang], "@language": lang} for lang in labels],
                    "inDefinedTermSet": statement.scheme,
                })
    return out


def _audiences(metadata: Metadata, profile: Profile) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for statement in metadata.get("audience"):
        audience: dict[str, Any] = {"@type": "EducationalAudience"}
        vocabulary = profile.vocabularies.get(statement.scheme or "")
        if vocabulary is not None and vocabulary.contains(statement.value):
            audience["educationalRole"] = statement.value
            labels = vocabulary.concept(statement.value).labels
            audience["audienceType"] = [
                {"@value": labels[lang], "@language": lang} for lang in labels
            ]
        else:
            audience["audienceType"] = _value(Display(statement.value, statement.lang))
        out.append(audience)
    return out


def jsonld_object(metadata: Metadata, context: RecordContext) -> dict[str, Any]:
    """The schema.org description as a JSON-able dict (keys in a fixed order)."""
    profile = context.resolved_profile

    def text(term: str) -> list[JsonValue]:
        return [_value(item) for item in displays(metadata, term, profile)]

    identifiers = [context.identifier, *(i for i in metadata.values("identifier")
                                         if i != context.identifier)]
    fields: list[tuple[str, Any]] = [
        ("@context", CONTEXT),
        ("@type", "LearningResource"),
        ("@id", context.url),
        ("url", context.url),
        ("identifier", _one_or_many(identifiers)),
        ("name", text("title")),
        ("alternateName", text("alternative")),
        ("author", _people_or_organisations(metadata, "creator")),
        ("contributor", _people_or_organisations(metadata, "contributor")),
        ("abstract", text("abstract")),
        ("description", text("description")),
        ("datePublished", metadata.first("issued")),
        ("dateCreated", metadata.first("created")),
        ("dateModified", metadata.first("modified")),
        ("inLanguage", metadata.values("language")),
        ("keywords", text("subject")),
        ("about", _defined_terms(metadata, "subject", profile)),
        ("educationalLevel", text("educationLevel")),
        ("audience", _audiences(metadata, profile)),
        ("learningResourceType", metadata.values("type")),
        ("educationalUse", text("instructionalMethod")),
        ("encodingFormat", metadata.values("format")),
        ("publisher", _agents("Organization", displays(metadata, "publisher", profile))),
        ("copyrightHolder", _agents("Organization", displays(metadata, "rightsHolder", profile))),
        ("license", metadata.values("license")),
        ("copyrightNotice", text("rights")),
        ("conditionsOfAccess", text("accessRights")),
        ("isPartOf", metadata.values("isPartOf")),
        ("spatialCoverage", text("spatial")),
        ("temporalCoverage", text("temporal")),
    ]
    if context.pdf_url:
        fields.append(("encoding", {"@type": "MediaObject", "contentUrl": context.pdf_url,
                                    "encodingFormat": "application/pdf"}))
    out: dict[str, Any] = {}
    for key, value in fields:
        if value in (None, [], ""):
            continue
        out[key] = _one_or_many(value) if isinstance(value, list) else value
    return out


def to_jsonld(metadata: Metadata, context: RecordContext) -> str:
    """The schema.org JSON-LD document (UTF-8 text, indented)."""
    return json.dumps(jsonld_object(metadata, context), ensure_ascii=False, indent=2) + "\n"
