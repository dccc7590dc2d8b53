"""Errors of the S3 client: a failed request, a missing object, a bad URL or root."""

from __future__ import annotations

from stepwell.exceptions import ConfigError, NotFoundError, StepwellError, StorageError


class S3Error(StorageError):
    """A request of :class:`~stepwell.data.S3` failed (Metaflow: ``MetaflowS3Exception``)."""

    headline = "S3 error"


class S3NotFound(S3Error, NotFoundError):
    """The object does not exist (Metaflow: ``MetaflowS3NotFound``); also a ``KeyError``."""

    headline = "S3 object not found"

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return StepwellError.__str__(self)


class S3UrlError(ConfigError):
    """A malformed ``s3://`` URL, a relative key with no root, or ``run=`` off the S3 datastore.

    Metaflow: ``MetaflowS3URLException``.
    """

    headline = "Invalid S3 location"
