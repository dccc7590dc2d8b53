"""S3 locations, options and messages: parsing and settings, no server involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepwell.exceptions import ConfigError
from stepwell.store._s3conn import S3Options, S3Url, explain, shared_file_credentials


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://my-bucket", "my-bucket", ""),
        ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket/a/b/", "my-bucket", "a/b"),
        ("s3://data.team-1/stepwell", "data.team-1", "stepwell"),
    ],
)
def test_s3_urls_split_into_bucket_and_prefix(url: str, bucket: str, prefix: str) -> None:
    parsed = S3Url.parse(url)
    assert (parsed.bucket, parsed.prefix) == (bucket, prefix)
    assert parsed.join("objects/ab") == (f"{prefix}/objects/ab" if prefix else "objects/ab")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("my-bucket/x", "must start with 's3://'"),
        ("s3:/my-bucket", "must start with 's3://'"),
        ("s3://", "no bucket name"),
        ("s3://ab/x", "3 to 63 characters"),
        ("s3://My_Bucket/x", "lowercase letters"),
        ("s3://bucket-/x", "start and end"),
        ("s3://bucket/a//b", "empty, '.' or '..'"),
        ("s3://bucket/a/../b", "empty, '.' or '..'"),
    ],
)
def test_malformed_s3_urls_say_what_is_wrong(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=r"s3://my-bucket/stepwell") as err:
        S3Url.parse(url)
    assert fragment in str(err.value)


def test_options_read_stepwell_then_metaflow_then_aws_names() -> None:
    env = {"AWS_ENDPOINT_URL": "http://aws-style:1", "METAFLOW_S3_ENDPOINT_URL": "http://mf:2"}
    assert S3Options.from_env(env).endpoint_url == "http://mf:2"
    env["STEPWELL_S3_ENDPOINT_URL"] = "http://ours:3"
    assert S3Options.from_env(env).endpoint_url == "http://ours:3"
    assert S3Options.from_env(env, endpoint_url="http://given:4").endpoint_url == "http://given:4"
    assert S3Options.from_env({"AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"
    assert S3Options.from_env({"STEPWELL_S3_RETRY_SECONDS": "3"}).retry_seconds == 3.0


def test_static_keys_come_from_the_profile_in_the_credentials_file(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n"
        "[team]\naws_access_key_id = AKTEAM\naws_secret_access_key = s2\n"
        "aws_session_token = tok\n"
    )
    config = tmp_path / "config"
    config.write_text("[profile team]\nregion = eu-central-1\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config)}
    assert shared_file_credentials(env)["access_key_id"] == "AKDEFAULT"
    team = shared_file_credentials({**env, "AWS_PROFILE": "team"})
    assert team == {"access_key_id": "AKTEAM", "secret_access_key": "s2", "session_token": "tok"}
    assert S3Options.from_env({**env, "AWS_PROFILE": "team"}).region == "eu-central-1"
    assert shared_file_credentials({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                                    "AWS_CONFIG_FILE": str(tmp_path / "none")}) == {}  # fmt: skip


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        ("Server returned 404: <Code>NoSuchBucket</Code>", "does not exist"),
        ("Server returned 403: <Code>InvalidAccessKeyId</Code>", "refused the credentials"),
        ("HTTP error: error sending request", "Cannot reach the S3 endpoint"),
        ("Server returned non-2xx status code: 500 Internal", "S3 request for s3://b-1/p failed"),
        ("status code: 403 Forbidden: <Code>Whatever</Code>", "refused the credentials"),
        ("error sending request for objects/40/3abc401", "Cannot reach the S3 endpoint"),
        ("request or response body error: operation aborted", "Cannot reach the S3 endpoint"),
        (
            "Error performing PUT http://169.254.169.254/latest/api/token in 102ms, after 1 "
            "retries - HTTP error: error sending request",
            "No AWS credentials were found",
        ),
    ],
)
def test_errors_are_explained_by_what_to_check(error: str, fragment: str) -> None:
    options = S3Options(endpoint_url="http://127.0.0.1:9")
    message = explain(RuntimeError(error + "\n\nDebug source: {...}"), S3Url("b-1", "p"), options)
    assert fragment in message
    assert "Debug source" not in message
