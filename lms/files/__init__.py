"""Files of records. Primitives that know nothing about records or permissions (``storage``,
``sniff``, ``names``, ``fixity``, ``thumbnails``), and the use cases built on them: ``upload``
(changing a record's files), ``serving`` (to readers, over HTTP), ``derivatives``
(thumbnails), ``extraction`` (full text) and ``maintenance`` (fixity schedule, garbage
collection). Import the submodules directly; this package imports nothing, so the thumbnail
worker process starts fast.
"""
