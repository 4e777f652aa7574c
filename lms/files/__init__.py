"""File layer primitives: blob storage, type sniffing, display names, serving, thumbnails, fixity.

Nothing here knows about records, files in the database or permissions: callers check access
*before* calling :func:`lms.files.serving.send_blob` and supply the set of referenced blobs to
:func:`lms.files.storage.collect_garbage`. Import the submodules directly; this package imports
nothing, so the thumbnail worker process starts fast.
"""
