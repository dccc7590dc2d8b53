"""Data access for steps: ``S3``, a fast client for S3-compatible object stores.

``from stepwell import S3`` mirrors ``metaflow.S3``: ``get``/``get_many``/``get_recursive``/
``get_all``, ``put``/``put_many``/``put_files``, ``list_paths``/``list_recursive``,
``info``/``info_many``, returning :class:`S3Object`s backed by temporary files that
the client deletes when its ``with`` block ends. See ``docs/s3-client.md``.

Rules the modules here keep:

- obstore is imported inside functions only (never when ``stepwell`` is imported);
  connections come from :mod:`stepwell.store._s3conn` only (``open_store``,
  ``S3Options.from_env``), and :func:`check_fork_safe` runs before each use.
- Many objects move at once (a bounded thread pool over obstore's blocking calls,
  which release the GIL); large uploads go in parts; downloads stream to files a
  chunk at a time, so memory stays bounded whatever an object's size.
- Errors are :mod:`stepwell.data._errors` classes naming the URL and one fix:
  :class:`S3NotFound` (a ``KeyError``) for a missing object, :class:`S3UrlError`
  (a ``ValueError``) for a bad URL or root, :class:`S3Error` for the rest.
- Nothing here is module-level mutable state: each client owns its stores and its
  temporary directory.
"""

from stepwell.data._client import S3
from stepwell.data._errors import S3Error, S3NotFound, S3UrlError
from stepwell.data._objects import RangeInfo, S3GetObject, S3Object, S3PutObject

__all__ = [
    "S3",
    "RangeInfo",
    "S3Error",
    "S3GetObject",
    "S3NotFound",
    "S3Object",
    "S3PutObject",
    "S3UrlError",
]
