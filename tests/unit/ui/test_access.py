"""Who a request is: open on loopback, one shared token, or the store's accounts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from stepwell.exceptions import MetadataError
from stepwell.ui._access import (
    AccountAccess,
    Credentials,
    OpenAccess,
    Refusal,
    SharedTokenAccess,
    cookie_value,
)
from stepwell.ui._login import login_page, safe_next
from stepwell.ui._ratelimit import FailureLimiter
from stepwell.ui._server import redact

SECRET = "swt_" + "s3cr3t" * 8


@dataclass
class Token:
    token_id: str
    user: str


@dataclass
class FakeAccounts:
    """The two methods AccountAccess asks of the metadata store."""

    tokens: dict[str, Token] = field(default_factory=dict)
    broken: bool = False
    checks: int = 0

    def has_tokens(self) -> bool:
        return bool(self.tokens)

    def check_token(self, secret: str) -> Token | None:
        self.checks += 1
        if self.broken:
            raise MetadataError("The database is down.")
        return self.tokens.get(secret)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def accounts(store: FakeAccounts, *, open_until_tokens: bool = False, clock: Any = None) -> Any:
    return AccountAccess(
        lambda: store,
        open_until_tokens=open_until_tokens,
        limiter=FailureLimiter(max_failures=2, window=60, clock=clock or Clock()),
        clock=clock or Clock(),
    )


def creds(**fields: Any) -> Credentials:
    return Credentials(**{"client": "10.1.1.1", "host": "127.0.0.1:8080", **fields})


def test_credentials_are_read_from_headers_and_query() -> None:
    headers = {"Authorization": "bearer  swt_abc ", "Cookie": "a=1; stepwell_token=swt_c; b=2",
               "Host": "h:1", "X-Forwarded-For": "1.2.3.4"}  # fmt: skip
    got = Credentials.of(headers, "10.0.0.9", {"token": ["", "u"]})
    assert (got.bearer, got.cookie, got.url_tokens) == ("swt_abc", "swt_c", ("u",))
    assert (got.client, got.host, got.forwarded) == ("10.0.0.9", "h:1", True)
    assert Credentials.of({"Authorization": "Basic eA=="}, "c", {}).bearer is None
    assert cookie_value("stepwell_token=; other=x") is None


def test_open_access_serves_loopback_host_names_only() -> None:
    assert OpenAccess().identify(creds(host="localhost:8080")).user is None
    with pytest.raises(Refusal) as caught:
        OpenAccess().identify(creds(host="evil.example"))
    assert caught.value.status == 403


def test_a_shared_token_is_accepted_from_any_place() -> None:
    access = SharedTokenAccess("shared-token-0123456789")
    assert access.identify(creds(url_tokens=("shared-token-0123456789",))).set_cookie
    assert not access.identify(creds(bearer="shared-token-0123456789")).set_cookie
    with pytest.raises(Refusal, match="A token is required"):
        access.identify(creds(cookie="wrong"))


def test_accounts_identify_the_user_by_bearer_or_cookie() -> None:
    access = accounts(FakeAccounts({SECRET: Token("t1", "ada")}))
    for offered in ({"bearer": SECRET}, {"cookie": SECRET}):
        who = access.identify(creds(**offered))
        assert (who.user, who.token_id) == ("ada", "t1")


def test_accounts_refuse_missing_and_wrong_tokens_differently() -> None:
    access = accounts(FakeAccounts({SECRET: Token("t1", "ada")}))
    with pytest.raises(Refusal) as missing:
        access.identify(creds())
    assert (missing.value.status, missing.value.sign_in, missing.value.clear_cookie) == (
        401, True, False)  # fmt: skip
    with pytest.raises(Refusal) as bad_cookie:
        access.identify(creds(cookie="swt_revoked"))
    assert (bad_cookie.value.status, bad_cookie.value.clear_cookie) == (401, True)
    with pytest.raises(Refusal) as bad_bearer:
        access.identify(creds(bearer="swt_wrong"))
    assert (bad_bearer.value.sign_in, bad_bearer.value.clear_cookie) == (False, False)


def test_accounts_never_take_a_token_from_the_url() -> None:
    store = FakeAccounts({SECRET: Token("t1", "ada")})
    with pytest.raises(Refusal, match="not accepted in URLs") as caught:
        accounts(store).identify(creds(url_tokens=(SECRET,), bearer=SECRET))
    assert caught.value.status == 400 and store.checks == 0


def test_failures_are_limited_per_client_and_then_not_even_checked() -> None:
    store = FakeAccounts({SECRET: Token("t1", "ada")})
    access = accounts(store)
    for _ in range(2):
        with pytest.raises(Refusal):
            access.identify(creds(bearer="swt_wrong"))
    checks = store.checks
    with pytest.raises(Refusal) as caught:
        access.identify(creds(bearer=SECRET))  # the right token, but too late
    assert caught.value.status == 429 and caught.value.retry_after == 60
    assert store.checks == checks
    assert access.identify(creds(bearer=SECRET, client="10.2.2.2")).user == "ada"


def test_a_store_failure_is_a_503_not_a_failed_sign_in() -> None:
    access = accounts(FakeAccounts({SECRET: Token("t1", "ada")}, broken=True))
    with pytest.raises(Refusal) as caught:
        access.identify(creds(bearer=SECRET))
    assert caught.value.status == 503
    assert access.limiter.retry_after("10.1.1.1") is None


def test_open_until_a_first_token_is_created_then_never_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stepwell.ui")
    store, clock = FakeAccounts(), Clock()
    access = accounts(store, open_until_tokens=True, clock=clock)
    assert access.is_open and access.identify(creds()).user is None
    with pytest.raises(Refusal, match="through a proxy"):
        access.identify(creds(forwarded=True))
    store.tokens[SECRET] = Token("t1", "ada")
    assert access.is_open  # looked for again only every 2 s
    clock.now += 2
    assert not access.is_open
    assert "sign-in is required from now on" in caplog.text
    store.tokens.clear()
    clock.now += 10
    assert not access.is_open
    with pytest.raises(Refusal):
        access.identify(creds())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/run.html?flow=A&run=1", "/run.html?flow=A&run=1"),
        (None, "/"),
        ("", "/"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/login?next=/", "/"),
        ("/logout", "/"),
    ],
)
def test_after_sign_in_only_local_paths_are_followed(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_the_sign_in_page_escapes_what_it_shows() -> None:
    page = login_page(message="<script>x</script>", next_path='/a"><script>').decode()
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'value="/a&quot;&gt;&lt;script&gt;"' in page
    assert " hidden>" in login_page().decode()


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /api/flows?token={SECRET} HTTP/1.1" 400 -',
        f'"GET /?a=1&token={SECRET}&b=2 HTTP/1.1" 400 -',
        f"Authorization: Bearer {SECRET}",
        f"cookie stepwell_token={SECRET}; other",
        f"code 400, message Bad request version ('{SECRET}')",
    ],
)
def test_log_lines_never_carry_a_token(line: str) -> None:
    assert SECRET not in redact(line) and SECRET[4:12] not in redact(line)
    assert "***" in redact(line)
