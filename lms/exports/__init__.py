"""A record's machine-readable faces: export formats, content negotiation, FAIR Signposting
links and RFC 9264 linksets. The pages that serve them are in ``lms.catalog.views``."""
