"""The part of the metadata conformance suite for accounts: the UI server's API tokens.

A token's secret is shown once and stored only as a hash; a revoked token is
refused; its last use is recorded at most once a minute. Mixed into
:class:`~stepwell.testing.metadata_conformance.MetadataStoreConformance`, so a
backend that subclasses that suite runs these too.
"""

from __future__ import annotations

import pytest

from stepwell.exceptions import MetadataError, NotFoundError


class AccountsConformance:
    """API tokens, through the public interface only."""

    def test_a_new_token_is_its_secret_once_and_a_record_without_it(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        record, secret = store.new_token("ada", note="laptop")
        assert secret.startswith("swt_") and len(secret) >= 40
        assert (record.user, record.note, record.created_at) == ("ada", "laptop", start)
        assert (record.last_used_at, record.revoked_at, record.revoked) == (None, None, False)
        assert record.token_id and record.token_id not in secret
        assert secret not in repr(record) and secret[4:] not in repr(record)
        listed = store.list_tokens()
        assert listed == [record] and secret not in repr(listed)

    def test_tokens_have_distinct_ids_and_secrets(self, store):
        made = [store.new_token("ada") for _ in range(5)]
        assert len({r.token_id for r, _ in made}) == len({s for _, s in made}) == 5

    def test_check_token_accepts_the_secret_and_nothing_else(self, store):
        record, secret = store.new_token("ada")
        found = store.check_token(secret)
        assert found is not None and (found.token_id, found.user) == (record.token_id, "ada")
        for wrong in ("", "swt_", secret + "x", secret[:-1], secret.upper(), "Bearer " + secret,
                      record.token_id, "not-a-token", "swt_" + "A" * 43):  # fmt: skip
            assert store.check_token(wrong) is None, wrong

    def test_check_token_records_the_last_use_at_most_once_a_minute(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        from stepwell.metadata._service_records import TOKEN_LAST_USED_RESOLUTION

        _, secret = store.new_token("ada")
        clock.advance(5)
        assert store.check_token(secret).last_used_at == start + 5
        clock.advance(TOKEN_LAST_USED_RESOLUTION - 1)
        assert store.check_token(secret).last_used_at == start + 5  # throttled: not rewritten
        assert store.list_tokens()[0].last_used_at == start + 5
        clock.advance(1)
        assert store.check_token(secret).last_used_at == start + 5 + TOKEN_LAST_USED_RESOLUTION
        assert store.list_tokens()[0].last_used_at == start + 5 + TOKEN_LAST_USED_RESOLUTION

    def test_a_revoked_token_is_refused_and_listed_only_on_request(self, store, clock):
        start = clock()  # the suite's clock, before it moves
        kept, kept_secret = store.new_token("ada")
        clock.advance(1)
        gone, gone_secret = store.new_token("bob")
        clock.advance(9)
        revoked = store.revoke_token(gone.token_id)
        assert (revoked.token_id, revoked.revoked_at) == (gone.token_id, start + 10)
        assert revoked.revoked
        assert store.check_token(gone_secret) is None
        assert store.check_token(kept_secret) is not None
        assert [r.token_id for r in store.list_tokens()] == [kept.token_id]
        every = store.list_tokens(include_revoked=True)
        assert [(r.token_id, r.revoked_at) for r in every] == [
            (kept.token_id, None), (gone.token_id, start + 10)]  # fmt: skip
        clock.advance(10)
        assert store.revoke_token(gone.token_id).revoked_at == start + 10  # again: unchanged

    def test_revoking_an_unknown_token_names_it_and_lists_the_ids(self, store):
        record, _ = store.new_token("ada")
        with pytest.raises(NotFoundError, match="no-such-id") as caught:
            store.revoke_token("no-such-id")
        assert f"{record.token_id} (ada)" in str(caught.value)

    def test_list_tokens_of_one_user_oldest_first(self, store, clock):
        first, _ = store.new_token("ada")
        clock.advance(1)
        store.new_token("bob")
        clock.advance(1)
        second, _ = store.new_token("ada", note="ci")
        assert [r.token_id for r in store.list_tokens(user="ada")] == [
            first.token_id, second.token_id]  # fmt: skip
        assert [r.user for r in store.list_tokens()] == ["ada", "bob", "ada"]
        assert store.list_tokens(user="carol") == []

    def test_has_tokens_once_any_was_created_even_if_revoked(self, store):
        assert store.has_tokens() is False
        record, _ = store.new_token("ada")
        assert store.has_tokens() is True
        store.revoke_token(record.token_id)
        assert store.has_tokens() is True

    @pytest.mark.parametrize("user", ["", " ", "ada lovelace", "ada\t", "ada\n", "a\x00b", 7])
    def test_a_bad_user_name_is_refused(self, store, user):
        with pytest.raises(MetadataError, match="Invalid user name"):
            store.new_token(user)
        assert store.has_tokens() is False

    def test_a_note_is_one_line(self, store):
        with pytest.raises(MetadataError, match="Invalid token note"):
            store.new_token("ada", note="two\nlines")
        assert store.new_token("ada", note="  ")[0].note is None

    def test_tokens_survive_close(self, store):
        _, secret = store.new_token("ada")
        store.close()
        assert store.check_token(secret).user == "ada"
