"""Dublin Core metadata for Kho học liệu số: model, profile, validation and crosswalks.

Pure Python: nothing here imports the web application, Flask or SQLAlchemy.
"""

from metadata.crosswalks import (
    FORMATS,
    CsvImport,
    CsvRow,
    Format,
    RecordContext,
    export_csv,
    get_format,
    head_tags,
    import_csv,
    marcxml_fragment,
    mods_fragment,
    oai_dc_element,
    oai_dc_fragment,
    qdc_fragment,
    serialize,
)
from metadata.errors import ProfileError
from metadata.model import Metadata, ShapeError, Statement
from metadata.problems import Problem
from metadata.profile import Profile, TermSpec, default_profile, load_profile
from metadata.terms import DCMI_TYPES, ELEMENTS, PROPERTIES
from metadata.validate import ValidationResult, is_incomplete, validate
from metadata.vocabularies import Concept, Vocabulary

__all__ = [
    "DCMI_TYPES", "ELEMENTS", "FORMATS", "PROPERTIES", "Concept", "CsvImport", "CsvRow",
    "Format", "Metadata", "Problem", "Profile", "ProfileError", "RecordContext", "ShapeError",
    "Statement", "TermSpec", "ValidationResult", "Vocabulary", "default_profile", "export_csv",
    "get_format", "head_tags", "import_csv", "is_incomplete", "load_profile",
    "marcxml_fragment", "mods_fragment", "oai_dc_element", "oai_dc_fragment", "qdc_fragment",
    "serialize", "validate",
]
