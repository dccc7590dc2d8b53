"""Connecting to an S3-compatible object store with obstore: URLs, credentials, retries, errors.

Shared by the S3 storage backend and ``stepwell.S3``. obstore (Rust's
``object_store``) is imported here only, on first use, so stepwell costs
nothing extra without it.

Fork safety: obstore runs a Tokio runtime whose threads do not survive
``fork()``; a child of a process that already used S3 would hang on its first
request. stepwell's run loop forks its workers before it touches S3; for
anything else, :func:`check_fork_safe` turns the hang into a clear error.
"""

from __future__ import annotations

import configparser
import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepwell.exceptions import ConfigError, StorageError

INSTALL_HINT = "Install it with: pip install 'stepwell[s3]'"
#: Total time one request may spend retrying (throttling, 5xx, connection errors).
DEFAULT_RETRY_SECONDS = 120.0


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/prefix`` split into its parts (prefix without leading/trailing '/')."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str, *, what: str = "S3 URL") -> S3Url:
        """Parse ``url``; a malformed one raises ConfigError saying what a valid one looks like."""
        text = str(url or "").strip()
        if not text.startswith("s3://"):
            raise ConfigError(
                f"Invalid {what} {url!r}: it must start with 's3://', "
                "e.g. s3://my-bucket/stepwell.",
                value=url,
            )
        bucket, _, prefix = text[len("s3://") :].partition("/")
        problem = _bucket_problem(bucket)
        if problem:
            raise ConfigError(
                f"Invalid {what} {url!r}: {problem}. Example: s3://my-bucket/stepwell.",
                value=url,
            )
        prefix = prefix.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise ConfigError(
                f"Invalid {what} {url!r}: the path after the bucket has an empty, '.' or '..' "
                "segment. Example: s3://my-bucket/stepwell.",
                value=url,
            )
        return cls(bucket, prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def join(self, key: str) -> str:
        """The full object key of ``key`` under this URL's prefix."""
        return f"{self.prefix}/{key}" if self.prefix else key


def _bucket_problem(bucket: str) -> str | None:
    if not bucket:
        return "there is no bucket name after 's3://'"
    if not 3 <= len(bucket) <= 63:
        return f"bucket name {bucket!r} must be 3 to 63 characters long"
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-")
    if set(bucket) - allowed or not bucket[0].isalnum() or not bucket[-1].isalnum():
        return (
            f"bucket name {bucket!r} may hold only lowercase letters, digits, '.' and '-', "
            "and must start and end with a letter or digit"
        )
    return None


@dataclass(frozen=True)
class S3Options:
    """How to reach the object store: endpoint (None: AWS itself), region, retry budget."""

    endpoint_url: str | None = None
    region: str | None = None
    retry_seconds: float = DEFAULT_RETRY_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> S3Options:
        """Endpoint and region from STEPWELL_/METAFLOW_/AWS_ variables, then the AWS config file."""
        env = os.environ if env is None else env
        endpoint = (
            env.get("STEPWELL_S3_ENDPOINT_URL")
            or env.get("METAFLOW_S3_ENDPOINT_URL")
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
            or None
        )
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or _config_region(env)
        retry = float(env.get("STEPWELL_S3_RETRY_SECONDS") or DEFAULT_RETRY_SECONDS)
        values: dict[str, Any] = {
            "endpoint_url": endpoint, "region": region, "retry_seconds": retry,
        }  # fmt: skip
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _aws_file(env: Mapping[str, str], variable: str, default: str) -> Path:
    return Path(env.get(variable) or Path.home() / ".aws" / default).expanduser()


def _profile(env: Mapping[str, str]) -> str:
    return env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"


def _config_region(env: Mapping[str, str]) -> str | None:
    parser = configparser.ConfigParser()
    parser.read(_aws_file(env, "AWS_CONFIG_FILE", "config"))
    profile = _profile(env)
    section = profile if profile == "default" else f"profile {profile}"
    return parser.get(section, "region", fallback=None)


def shared_file_credentials(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Static keys of the active profile in the AWS credentials (or config) file, if any."""
    env = os.environ if env is None else env
    profile = _profile(env)
    for variable, default, section in (
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials", profile),
        ("AWS_CONFIG_FILE", "config", profile if profile == "default" else f"profile {profile}"),
    ):
        parser = configparser.ConfigParser()
        parser.read(_aws_file(env, variable, default))
        key = parser.get(section, "aws_access_key_id", fallback=None)
        secret = parser.get(section, "aws_secret_access_key", fallback=None)
        if key and secret:
            found = {"access_key_id": key, "secret_access_key": secret}
            token = parser.get(section, "aws_session_token", fallback=None)
            if token:
                found["session_token"] = token
            return found
    return {}


# -- fork safety -------------------------------------------------------------------------


class _ForkGuard:
    """Which process started obstore's runtime; a forked child of it cannot use S3."""

    used_in: int | None = None
    inherited_from: int | None = None


_GUARD = _ForkGuard()


def _after_fork_in_child() -> None:
    if _GUARD.used_in is not None:
        _GUARD.inherited_from, _GUARD.used_in = _GUARD.used_in, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def check_fork_safe() -> None:
    """Raise StorageError in a forked child of a process that used S3 (it would hang)."""
    if _GUARD.inherited_from is not None:
        raise StorageError(
            "S3 cannot be used in this process: it was forked from process "
            f"{_GUARD.inherited_from}, which had already used S3, and the S3 client's threads "
            "do not survive a fork (requests would hang).\n"
            "Start worker processes with the 'spawn' or 'forkserver' method "
            "(multiprocessing.get_context('spawn')), or open S3 only in the children."
        )
    if _GUARD.used_in is None:
        _GUARD.used_in = os.getpid()


# -- stores and errors --------------------------------------------------------------------


def import_obstore() -> Any:
    try:
        import obstore
        import obstore.store
    except ImportError:
        raise ConfigError(
            f"The S3 datastore and stepwell.S3 need the 'obstore' package. {INSTALL_HINT}"
        ) from None
    return obstore


def open_store(
    url: S3Url, options: S3Options, *, env: Mapping[str, str] | None = None, fast_fail: bool = False
) -> Any:
    """An ``obstore.store.S3Store`` for ``url``.

    ``fast_fail`` gives up after one quick try (used to check settings at start).
    """
    import_obstore()
    from obstore.store import S3Store

    env = os.environ if env is None else env
    kwargs: dict[str, Any] = {"region": options.region or "us-east-1"}
    if options.endpoint_url:
        kwargs["endpoint"] = options.endpoint_url.rstrip("/")
        kwargs["virtual_hosted_style_request"] = False
    if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        kwargs.update(shared_file_credentials(env))
    client = {"allow_http": True, "connect_timeout": _dt.timedelta(seconds=5)}
    seconds = 2.0 if fast_fail else options.retry_seconds
    retry = {
        "max_retries": 1 if fast_fail else 10,
        "retry_timeout": _dt.timedelta(seconds=seconds),
        "backoff": {
            "init_backoff": _dt.timedelta(milliseconds=100),
            "max_backoff": _dt.timedelta(seconds=15),
            "base": 2.0,
        },
    }
    return S3Store(
        url.bucket,
        prefix=url.prefix or None,
        client_options=client,  # type: ignore[arg-type]
        retry_config=retry,  # type: ignore[arg-type]
        **kwargs,
    )


def short_message(err: BaseException) -> str:
    """obstore's error text without its multi-line debug dump."""
    text = str(err).split("\n\nDebug source", 1)[0].strip()
    return text.split("<?xml", 1)[0].rstrip(": ") if "<?xml" in text else text


def explain(err: BaseException, url: S3Url, options: S3Options) -> str:
    """One message naming what to check for a failed request to ``url``."""
    text = str(err)
    where = options.endpoint_url or "AWS S3"
    if "NoSuchBucket" in text:
        return (
            f"The bucket {url.bucket!r} does not exist at {where}.\n"
            "Create it, or point STEPWELL_DATASTORE_ROOT at an existing bucket."
        )
    auth_codes = (
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
        "403 Forbidden", "401 Unauthorized",  # status lines: bare numbers occur in blob keys
    )  # fmt: skip
    if any(code in text for code in auth_codes) or type(err).__name__ in (
        "PermissionDeniedError",
        "UnauthenticatedError",
    ):
        return (
            f"{where} refused the credentials for {url}: {short_message(err)}\n"
            "Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE and "
            "~/.aws/credentials) and the bucket's permissions."
        )
    if "169.254.169.254" in text or "169.254.170.2" in text:  # a credentials lookup failed
        return (
            f"No AWS credentials were found for {url}: none in the environment or "
            "~/.aws, and no instance or container role answered.\n"
            "Set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE and "
            "~/.aws/credentials), or run where a role is attached."
        )
    answered = "Server returned" in text or "status code" in text.lower()
    if not answered or "error sending request" in text or "timed out" in text:  # no answer
        return (
            f"Cannot reach the S3 endpoint {where} for {url}: {short_message(err)}\n"
            "Check STEPWELL_S3_ENDPOINT_URL (or METAFLOW_S3_ENDPOINT_URL) and that the "
            "server is running."
        )
    return f"S3 request for {url} failed: {short_message(err)}"
