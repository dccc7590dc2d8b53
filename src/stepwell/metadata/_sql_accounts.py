"""The UI server's accounts in the SQL metadata store (a mixin of ``SqlMetadataStore``).

A token's secret is ``swt_`` followed by 43 random URL-safe characters (256
bits). The store keeps only the SHA-256 hex digest of the whole secret, in a
unique column: checking a secret is one index probe, and a copy of the
database holds nothing that signs in. The lookup is by digest, so its timing
tells nothing about the secret.

Every lookup is by primary key (``token_id``), by digest, or by user (an
index); ``list_tokens`` without a user reads the table, which holds one row
per token ever created.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import MetadataError, NotFoundError
from stepwell.metadata._database import Query, SqlDatabase
from stepwell.metadata._notfound import _did_you_mean, _listing

if TYPE_CHECKING:  # built only by _record: reading runs never makes the class
    from stepwell.metadata._service_records import TokenRecord

TOKEN_PREFIX = "swt_"
_SECRET = re.compile(r"swt_[A-Za-z0-9_\-]{20,200}")
_COLUMNS = "token_id, user_name, note, created_at, last_used_at, revoked_at"
_ID_ATTEMPTS = 5  # token ids are 8 random hex digits: a collision is rare, two in a row rarer
_MAX_USER = 200
_MAX_NOTE = 500
_MAX_LISTED_IDS = 1000


def token_hash(secret: str) -> str:
    """The SHA-256 hex digest stored for a secret."""
    import hashlib  # here, not at the top: reading runs never needs OpenSSL (~4 ms)

    return hashlib.sha256(secret.encode()).hexdigest()


def check_user(user: object) -> str:
    """``user`` if it is a valid account name, else a MetadataError saying what is valid."""
    if (
        not isinstance(user, str)
        or not user
        or len(user) > _MAX_USER
        or any(c.isspace() or not c.isprintable() for c in user)
    ):
        raise MetadataError(
            f"Invalid user name {user!r}: expected a non-empty name of at most {_MAX_USER} "
            "characters without whitespace or control characters, such as 'ada' or "
            "'ada@example.com'.",
            user=user,
        )
    return user


def check_note(note: object) -> str | None:
    """``note`` stripped (``None`` if empty), or a MetadataError if it is not one short line."""
    if note is None:
        return None
    if not isinstance(note, str) or len(note) > _MAX_NOTE or not note.isprintable():
        raise MetadataError(
            f"Invalid token note {note!r}: expected one line of at most {_MAX_NOTE} "
            "printable characters.",
            note=note,
        )
    return note.strip() or None


def _record(row: Any) -> TokenRecord:
    from stepwell.metadata._service_records import TokenRecord

    return TokenRecord(*row)


class AccountQueries:
    """API tokens: create, list, revoke, check."""

    _db: SqlDatabase
    _clock: Callable[[], float]

    def new_token(self, user: str, *, note: str | None = None) -> tuple[TokenRecord, str]:
        import secrets  # only a server making tokens needs it (and hashlib, random)

        user, note = check_user(user), check_note(note)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        with self._db.write() as q:
            for _ in range(_ID_ATTEMPTS):
                token_id = secrets.token_hex(4)
                if q.run(
                    "INSERT INTO api_tokens (token_id, user_name, token_hash, note, created_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id) DO NOTHING",
                    (token_id, user, token_hash(secret), note, now),
                ):
                    return _record((token_id, user, note, now, None, None)), secret
        raise MetadataError(
            f"Could not choose an unused token id in {_ID_ATTEMPTS} attempts. Try again."
        )

    def list_tokens(
        self, *, user: str | None = None, include_revoked: bool = False
    ) -> list[TokenRecord]:
        where: list[str] = []
        params: list[Any] = []
        if user is not None:
            where.append("user_name = ?")
            params.append(check_user(user))
        if not include_revoked:
            where.append("revoked_at IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._db.read() as q:
            rows = q.all(
                f"SELECT {_COLUMNS} FROM api_tokens{clause} ORDER BY created_at, token_id", params
            )
        return [_record(row) for row in rows]

    def revoke_token(self, token_id: str) -> TokenRecord:
        with self._db.write() as q:
            q.run(
                "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (self._clock(), token_id),
            )
            row = q.one(f"SELECT {_COLUMNS} FROM api_tokens WHERE token_id = ?", (token_id,))
            if row is None:
                raise _token_not_found(q, token_id)
        return _record(row)

    def check_token(self, secret: str) -> TokenRecord | None:
        from stepwell.metadata._service_records import TOKEN_LAST_USED_RESOLUTION

        if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
            return None
        with self._db.read() as q:
            row = q.one(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash(secret),)
            )
        if row is None:
            return None
        record = _record(row)
        if record.revoked:
            return None
        now = self._clock()
        last = record.last_used_at
        if last is None or now - last >= TOKEN_LAST_USED_RESOLUTION:
            with self._db.write() as q:
                changed = q.run(
                    "UPDATE api_tokens SET last_used_at = ?"
                    " WHERE token_id = ? AND revoked_at IS NULL",
                    (now, record.token_id),
                )
            if not changed:  # revoked since it was read
                return None
            from dataclasses import replace  # TokenRecord is a dataclass: imported already

            record = replace(record, last_used_at=now)
        return record

    def has_tokens(self) -> bool:
        with self._db.read() as q:
            return q.one("SELECT 1 FROM api_tokens LIMIT 1") is not None


def _token_not_found(q: Query, token_id: str) -> NotFoundError:
    rows = q.all(
        "SELECT token_id, user_name FROM api_tokens ORDER BY created_at, token_id LIMIT ?",
        (_MAX_LISTED_IDS,),
    )
    ids = [row[0] for row in rows]
    message = f"No API token with id {token_id!r}." + _did_you_mean(str(token_id), ids)
    listed = [f"{row[0]} ({row[1]})" for row in rows]
    message += _listing("Token ids", listed) or "\nNo token has been created yet."
    return NotFoundError(message, token_id=token_id, candidates=ids[:12])
