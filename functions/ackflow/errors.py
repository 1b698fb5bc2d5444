"""One error tree for Ackflow. Vendor errors are translated into these at the edges."""

from __future__ import annotations


class AckflowError(Exception):
    """Base of every error Ackflow raises on purpose."""


class ConfigError(AckflowError):
    """A setting is missing or malformed; the message names it and shows what it should look like."""


class UsageError(AckflowError):
    """A person wrote a command we cannot run; the message says what was wrong.

    ``message`` is English, marked for the catalog (``N_("{label} is empty")``), with its
    ``values`` (which may be texts said later themselves, or a parameter, which names itself in
    the person's language); or a ``Msg``. ``render(speaker)`` says it in the person's language
    where it is shown; ``str()`` is the English (logs)."""

    def __init__(self, message, usage: str | None = None, **values):
        from .i18n import Msg

        self.text = message if isinstance(message, Msg) else Msg(str(message), **values)
        super().__init__(str(self.text))
        self.usage = usage

    def render(self, speaker) -> str:
        return self.text.render(speaker)


class AccessDenied(AckflowError):
    """This person may not do this here."""


class VerificationError(AckflowError):
    """A bearer token is missing or does not verify."""


class CertificatesUnavailable(VerificationError):
    """The signer's certificates cannot be fetched (and none are cached): the token may well be
    valid, it cannot be checked now. The worker asks the queue to deliver again (503), not 401."""


class NotFound(AckflowError):
    """The thing asked for does not exist."""


class JobNotFound(NotFound):
    def __init__(self, job_id: str):
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class ConfirmationNotFound(NotFound):
    pass


class UnknownJobType(NotFound):
    pass


class DeadLetterNotFound(NotFound):
    pass


class Conflict(AckflowError):
    """The change does not apply to the current state (a failed compare-and-set)."""


class AlreadyExists(Conflict):
    pass


class InvalidTransition(Conflict):
    def __init__(self, job_id: str, current: str, wanted: str):
        super().__init__(f"job {job_id} is {current}; it cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class NotCancellable(Conflict):
    """The job holds what a finished step took (an invoice number): it must run to its end."""

    def __init__(self, message: str, step: str):
        super().__init__(message)
        self.step = step


class LeaseLost(Conflict):
    """Another attempt holds (or finished) the step this attempt worked on."""


class Unavailable(AckflowError):
    """A backing service did not answer; trying again later may work."""


class StoreUnavailable(Unavailable):
    pass


class DocumentRefused(AckflowError, ValueError):
    """The store takes no document as written: over Firestore's 1 MiB, maps or arrays nested past
    20, a field name empty, reserved (``__x__``) or over 1,500 bytes, an array in an array, an id
    no document can have. Writing it again cannot succeed, so this is never ``StoreUnavailable``
    (which asks the queue to try again); both backends refuse the same (``store.documents``)."""


class QueueUnavailable(Unavailable):
    pass


class NotSupported(AckflowError):
    """The backend cannot do this (pausing an SQS queue, redriving a Cloud Tasks queue)."""


class ChatUnavailable(Unavailable):
    pass


class ChatBudgetSpent(ChatUnavailable):
    """The space has no write budget (the app's own, or Chat's 429) for as long as a writer may wait.
    A result is still owed (``message_due``): the worker asks the queue to deliver it again after
    ``after`` seconds (the sweep is behind that) and answers 2xx, instead of keeping a delivery slot
    busy waiting or retrying. ``slot``: ``"new"`` when this attempt reserved the result a slot in
    the space's budget ``after`` seconds from now (jobs/messages.py), so it is handed over to come
    back just then; ``"held"`` when an earlier attempt holds one (that one shows it); None after a
    429 (no slot: come back once the space should have budget)."""

    def __init__(self, message: str, after: float = 0.0, slot: str | None = None):
        super().__init__(message)
        self.after = after
        self.slot = slot


class ChatRateLimited(ChatUnavailable):
    """Chat answered 429 (a quota of the space or the project); ``retry_after`` if it said when."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ChatRefused(AckflowError):
    """The Chat API refused a write for good (no such space, app not a member, invalid message).
    ``status``: the HTTP status Chat answered (400: Chat does not take this message as written;
    403/404: the space or the app's membership), when known."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class StepFailed(AckflowError):
    """Raised by job code. ``permanent`` failures are not retried.

    Its message is shown to the person who asked for the job: English marked for the catalog
    (``N_("there is no case {case}")``) with its values, said in their language when the worker
    records it (``render``)."""

    permanent = False

    def __init__(self, message="", **values):
        from .i18n import Msg

        self.text = message if isinstance(message, Msg) else Msg(str(message), **values)
        super().__init__(str(self.text))

    def render(self, speaker) -> str:
        return self.text.render(speaker)


class TransientError(StepFailed):
    """Worth retrying: a timeout, a 5xx, a lock."""


class RetryLater(TransientError):
    """Worth retrying, but not before ``after`` seconds: a service that shuts us out for a while
    (freee answers excessive access with 403 for about ten minutes). The queue's own retries come
    too soon for that and would be spent in minutes, so the worker records the step as waiting and
    sends it again under a new task, delayed by ``after``; the attempt is not one of the queue's.
    ``within`` bounds the whole wait, counted from the step's first attempt: a wait that would end
    later fails the job, with ``gave_up`` (a text said later) as its error when given."""

    def __init__(self, message="", *, after: float, within: float, gave_up=None, **values):
        super().__init__(message, **values)
        self.after = after
        self.within = within
        self.gave_up = gave_up


class PermanentError(StepFailed):
    """Retrying will not help: bad credentials, a missing order, invalid input."""

    permanent = True
