"""Where the S3 client's keys point: the root from the constructor, and key -> (bucket, key, url).

The four ways to place a client (as in Metaflow):

- ``S3(s3root="s3://bucket/prefix")`` or ``S3(bucket=..., prefix=...)``: keys are suffixes
  of that root (full ``s3://`` URLs still work);
- ``S3()``: every key is a full ``s3://`` URL;
- ``S3(run=self)`` in a step (or ``run=`` a client ``Run``): the root is
  ``<datastore root>/data/<FlowName>/<run_id>``, so what a run stores is versioned by it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from stepwell.data._errors import S3UrlError
from stepwell.exceptions import ConfigError
from stepwell.store._s3conn import S3Url

#: Under a run's datastore root, the folder that holds what ``S3(run=...)`` stores.
RUN_DATA_FOLDER = "data"


@dataclass(frozen=True)
class Location:
    """One object (or prefix) in S3: the bucket, the full object key, and the URL."""

    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"


def parse_url(url: str, what: str = "S3 URL") -> S3Url:
    """``S3Url.parse`` raising :class:`S3UrlError` (a ConfigError) for a malformed URL."""
    try:
        return S3Url.parse(url, what=what)
    except ConfigError as err:
        raise S3UrlError(err.message, value=url) from None


def resolve(root: S3Url | None, key: str) -> Location:
    """The location of ``key``: a full ``s3://`` URL, or a suffix of ``root``."""
    if not isinstance(key, str):
        raise S3UrlError(f"An S3 key must be a str, got {type(key).__name__}: {key!r}.")
    if key.startswith("s3://"):
        url = parse_url(key)
        return Location(url.bucket, url.prefix)
    if root is None:
        what = f"The key {key!r} is" if key else "No key was given, and it is"
        raise S3UrlError(
            f"{what} not a full s3:// URL, and this S3 client has no root to put "
            "it under.\nUse a full URL (s3://bucket/path), or give the client a root: "
            "S3(s3root='s3://bucket/prefix'), S3(bucket=..., prefix=...) or, in a step, "
            "S3(run=self).",
            value=key,
        )
    suffix = key.strip("/")
    if any(part in (".", "..") for part in suffix.split("/")):
        raise S3UrlError(f"The key {key!r} has a '.' or '..' segment.", value=key)
    return Location(root.bucket, root.join(suffix) if suffix else root.prefix)


def client_root(
    *,
    bucket: str | None,
    prefix: str | None,
    run: Any,
    s3root: str | None,
) -> S3Url | None:
    """The root of an ``S3(...)`` client from its constructor arguments (None: full URLs)."""
    if run is not None:
        if s3root is not None:
            raise S3UrlError("Give S3() either run= or s3root=, not both.")
        return run_root(run, bucket=bucket, prefix=prefix)
    if s3root is not None:
        if bucket is not None or prefix is not None:
            raise S3UrlError("Give S3() either s3root= or bucket=/prefix=, not both.")
        return parse_url(s3root, what="s3root")
    if bucket is not None:
        return parse_url(_join(f"s3://{bucket}", prefix or ""), what="S3 bucket/prefix")
    if prefix is not None:
        raise S3UrlError(
            f"S3(prefix={prefix!r}) needs a bucket too: S3(bucket='my-bucket', "
            f"prefix={prefix!r}), or S3(s3root='s3://my-bucket/{prefix.strip('/')}')."
        )
    return None


def run_root(run: Any, *, bucket: str | None = None, prefix: str | None = None) -> S3Url:
    """``<datastore root>/data/<FlowName>/<run_id>`` for a running flow (``self``) or a Run.

    ``bucket`` and ``prefix`` replace the bucket and the path of the datastore root.
    """
    flow_name, run_id, datastore_root = _run_identity(run)
    if bucket is not None:
        base = parse_url(_join(f"s3://{bucket}", prefix or ""), what="S3 bucket/prefix")
    elif datastore_root is None or not str(datastore_root).startswith("s3://"):
        where = (
            f"the datastore of this run is {datastore_root!r}"
            if datastore_root
            else ("this run's datastore root is unknown")
        )
        raise S3UrlError(
            f"S3(run=...) stores data next to the run's artifacts, but {where}, not an s3:// "
            "URL.\nRun the flow with the S3 datastore (--datastore s3, or STEPWELL_DATASTORE=s3 "
            "with STEPWELL_DATASTORE_ROOT=s3://bucket/prefix), or give the client its own "
            "location: S3(s3root='s3://bucket/prefix')."
        )
    else:
        base = parse_url(str(datastore_root), what="datastore root")
        if prefix is not None:
            base = parse_url(_join(f"s3://{base.bucket}", prefix), what="S3 prefix")
    return S3Url(base.bucket, base.join(f"{RUN_DATA_FOLDER}/{flow_name}/{run_id}"))


def _run_identity(run: Any) -> tuple[str, str, str | None]:
    """(flow name, run id, datastore root) of ``self`` in a step, or of a client Run."""
    from stepwell.flow import FlowSpec, current

    if isinstance(run, FlowSpec):
        if not current.is_running_flow:
            raise S3UrlError(
                "S3(run=self) works only while a step runs. Outside a flow, give a Run "
                "(S3(run=Flow('MyFlow').latest_run)) or a location (S3(s3root=...))."
            )
        return current.flow_name, str(current.run_id), current.get("datastore_root")
    pathspec = getattr(run, "pathspec", None)
    if not isinstance(pathspec, str) or pathspec.count("/") < 1:
        raise S3UrlError(f"S3(run=...) takes the running flow (self) or a client Run, got {run!r}.")
    flow_name, run_id = pathspec.split("/")[:2]
    root = getattr(run, "datastore_root", None) or current.get("datastore_root")
    root = root or os.environ.get("STEPWELL_DATASTORE_ROOT")
    return flow_name, run_id, root


def _join(base: str, suffix: str) -> str:
    suffix = suffix.strip("/")
    return f"{base}/{suffix}" if suffix else base
