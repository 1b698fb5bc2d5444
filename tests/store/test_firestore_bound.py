"""The bound of the webhook's and the CLI's Firestore requests (ACKFLOW_STORE_TIMEOUT), without an
emulator: what its retry tries again, and what its error says where there is no bound."""

from __future__ import annotations

from google.api_core import exceptions

from ackflow.store.firestore import FirestoreDocuments, _BoundedApi


class _Api:
    """A GAPIC API whose RPCs fail once with ``error``, then answer; each runs the retry it is given."""

    def __init__(self, error: Exception):
        self.error, self.calls = error, []

    def _rpc(self, name: str):
        def call(*, retry, timeout, **_):
            def attempt():
                self.calls.append(name)
                if self.calls.count(name) == 1:
                    raise self.error
                return name

            return retry(attempt)()

        return call

    def __getattr__(self, name: str):
        return self._rpc(name)


def test_a_commit_is_not_committed_again_after_an_internal_error():
    """INTERNAL from a commit may come after Firestore applied it: the client's own retry leaves
    it out for commit, and so does the bound's (the transaction committed again is refused, and the
    person would be told their write failed). A read or a begin is tried again."""
    documents = FirestoreDocuments(project="p", timeout=5.0)
    api = _Api(exceptions.InternalServerError("internal"))
    bounded = _BoundedApi(api, documents)
    try:
        bounded.commit(request={})
    except exceptions.InternalServerError:
        pass
    else:
        raise AssertionError("the commit was tried again")
    assert api.calls == ["commit"]
    assert bounded.begin_transaction(request={}) == "begin_transaction"
    assert bounded.rollback(request={}) == "rollback"
    assert api.calls == ["commit", "begin_transaction", "begin_transaction", "rollback", "rollback"]

    unavailable = _Api(exceptions.ServiceUnavailable("refused"))  # not applied: a commit is tried again
    assert _BoundedApi(unavailable, documents).commit(request={}) == "commit"
    assert unavailable.calls == ["commit", "commit"]


def test_the_worker_s_store_error_does_not_point_at_a_setting_that_is_not_its_own():
    """The worker's store has no bound (the client's deadlines): its error does not tell the
    operator to change ACKFLOW_STORE_TIMEOUT, which would change nothing there."""
    unbounded = FirestoreDocuments(project="p")._unavailable(exceptions.DeadlineExceeded("slow"), "a read")
    assert "ACKFLOW_STORE_TIMEOUT" not in str(unbounded) and "in time (a read)" in str(unbounded)
    bounded = FirestoreDocuments(project="p", timeout=6.0)._unavailable(exceptions.DeadlineExceeded("slow"), "a read")
    assert "within 6 s (a read)" in str(bounded) and "ACKFLOW_STORE_TIMEOUT sets the wait" in str(bounded)
