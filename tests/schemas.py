"""The official OAI-PMH and Dublin Core schemas from ../shared, resolved offline."""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("LMS_SHARED_DIR", REPO_ROOT.parent / "shared"))


def standards_dir() -> Path:
    folder = shared_dir() / "standards" / "oai-pmh"
    assert (folder / "OAI-PMH.xsd").is_file(), (
        f"OAI-PMH schemas not found in {folder}; set LMS_SHARED_DIR to the shared folder"
    )
    return folder


class CatalogResolver(etree.Resolver):
    """Maps the schemas' remote URLs to local files, as listed in catalog.xml."""

    def __init__(self, catalog: Path) -> None:
        super().__init__()
        tree = etree.parse(str(catalog), etree.XMLParser(resolve_entities=False,
                                                         no_network=True))
        ns = {"c": "urn:oasis:names:tc:entity:xmlns:xml:catalog"}
        self.mapping = {
            entry.get("name"): str(catalog.parent / entry.get("uri"))
            for entry in tree.iterfind("c:uri", ns)
        }

    def resolve(self, url, public_id, context):  # type: ignore[no-untyped-def]
        local = self.mapping.get(url)
        return self.resolve_filename(local, context) if local else None


def load_schema(name: str) -> etree.XMLSchema:
    """Compile ``name`` (e.g. ``oai_dc.xsd``) with every import resolved from the catalog."""
    folder = standards_dir()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(CatalogResolver(folder / "catalog.xml"))
    return etree.XMLSchema(etree.parse(str(folder / name), parser))


def shared_standards() -> Path:
    """The folder of every official schema, with its catalog.xml."""
    standards_dir()  # fails with the helpful message when shared/ is missing
    return shared_dir() / "standards"


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(CatalogResolver(shared_standards() / "catalog.xml"))
    return parser


def load_standard(relative: str) -> etree.XMLSchema:
    """Compile ``standards/<relative>`` (``marc/MARC21slim.xsd``, ``mods/mods-3-7.xsd``,
    ``qdc/dspace-qualifieddc.xsd``...) with imports resolved through the shared catalog."""
    return etree.XMLSchema(etree.parse(str(shared_standards() / relative), _parser()))


def marcxml_schema() -> etree.XMLSchema:
    return load_standard("marc/MARC21slim.xsd")


def mods_schema() -> etree.XMLSchema:
    return load_standard("mods/mods-3-7.xsd")


def qdc_schema() -> etree.XMLSchema:
    """DSpace's qualifieddc wrapper (DCMI's 2008 qualifieddc.xsd in DSpace's namespace)."""
    return load_standard("qdc/dspace-qualifieddc.xsd")


# Per metadata prefix: the payload schema imported beside OAI-PMH.xsd. oai_dc and qdc both
# define the dc namespace differently, so each prefix gets a schema object of its own.
PAYLOAD_SCHEMAS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc/", "oai-pmh/oai_dc.xsd"),
    "qdc": ("http://dspace.org/qualifieddc/", "qdc/dspace-qualifieddc.xsd"),
    "marcxml": ("http://www.loc.gov/MARC21/slim", "marc/MARC21slim.xsd"),
    "mods": ("http://www.loc.gov/mods/v3", "mods/mods-3-7.xsd"),
}


def oai_pmh_schema(prefix: str = "oai_dc") -> etree.XMLSchema:
    """OAI-PMH.xsd with oai-identifier and the official schema of ``prefix``'s payload, so
    ``<metadata>`` is checked strictly (its xs:any is processContents="strict")."""
    standards = shared_standards()
    namespace, relative = PAYLOAD_SCHEMAS[prefix]
    driver = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:lms:driver">
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/"
             schemaLocation="{(standards / 'oai-pmh' / 'OAI-PMH.xsd').as_uri()}"/>
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai-identifier"
             schemaLocation="{(standards / 'oai-pmh' / 'oai-identifier.xsd').as_uri()}"/>
  <xs:import namespace="{namespace}" schemaLocation="{(standards / relative).as_uri()}"/>
</xs:schema>"""
    return etree.XMLSchema(etree.fromstring(driver.encode(), _parser(),
                                            base_url=str(standards) + "/"))


def payload_prefix(document: etree._Element) -> str:
    """The metadata prefix of an OAI-PMH response's payload (``oai_dc`` when it has none)."""
    request = document.find("{http://www.openarchives.org/OAI/2.0/}request")
    prefix = request.get("metadataPrefix") if request is not None else None
    if prefix in PAYLOAD_SCHEMAS:
        return prefix
    for metadata in document.iter("{http://www.openarchives.org/OAI/2.0/}metadata"):
        namespace = etree.QName(metadata[0]).namespace
        return next(p for p, (ns, _r) in PAYLOAD_SCHEMAS.items() if ns == namespace)
    return "oai_dc"
