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


# A stand-in for the DSpace qualified-DC wrapper, whose schema is not among the official
# files: it declares the root element and lets its dc/dcterms children through unchecked.
QDC_STAND_IN = b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  targetNamespace="http://dspace.org/qualifieddc/" elementFormDefault="qualified">
  <xs:element name="qualifieddc">
    <xs:complexType><xs:sequence>
      <xs:any namespace="##other" processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence><xs:anyAttribute processContents="skip"/></xs:complexType>
  </xs:element>
</xs:schema>"""


def oai_pmh_schema() -> etree.XMLSchema:
    """OAI-PMH.xsd with oai_dc, oai-identifier (and the qdc stand-in) for strict payloads."""
    folder = standards_dir()
    driver = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:lms:driver">
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/"
             schemaLocation="{(folder / 'OAI-PMH.xsd').as_uri()}"/>
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai_dc/"
             schemaLocation="{(folder / 'oai_dc.xsd').as_uri()}"/>
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai-identifier"
             schemaLocation="{(folder / 'oai-identifier.xsd').as_uri()}"/>
  <xs:import namespace="http://dspace.org/qualifieddc/" schemaLocation="urn:lms:qdc"/>
</xs:schema>"""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(CatalogResolver(folder / "catalog.xml"))
    parser.resolvers.add(_StandIn())
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser, base_url=str(folder) + "/"))


class _StandIn(etree.Resolver):
    def resolve(self, url, public_id, context):  # type: ignore[no-untyped-def]
        return self.resolve_string(QDC_STAND_IN, context) if url == "urn:lms:qdc" else None
