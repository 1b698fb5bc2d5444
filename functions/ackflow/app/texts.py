"""Every sentence Ackflow says to a person, in one place (easy to review, easy to translate)."""

GREETING = ("Hello! I run the office's slow work for you: ask, confirm on the card, and I post progress and the "
            "result here.")
HELP_TITLE = "What I can do"
HELP_FOOTER = "Write a command as a message (in a space, @mention me first). Arguments with spaces go in quotes."
BUILTIN_HELP = {
    "help": ("help", "Show this list."),
    "status": ("status JOB_ID", "Show a job: its steps, result or error."),
    "jobs": ("jobs [all]", "Your recent jobs (all: everyone's)."),
    "cancel": ("cancel JOB_ID", "Stop a job that has not finished."),
    "retry": ("retry JOB_ID", "Run a failed job again from the step that failed."),
}
UNKNOWN_COMMAND = "I don't know the command “{name}”."
UNAVAILABLE = "“{name}” cannot run in this deployment: a part it needs is not installed ({hint}). Nothing was started."
ASK_ADMIN = "ask the person who set up this app"
EMPTY_COMMAND = "Write a command; here is what I can do."
BAD_ARGUMENTS = "I could not read that: {problem}."
USAGE = "Usage: {usage}"
REFUSED = "Sorry, you may not use “{command}” here."
REFUSED_BY_COMMAND = ("Sorry, “{command}” is limited to certain people or spaces, and you may not use it here "
                      "(your other commands are in “help”).")
REFUSED_CONTACT = " Ask {contact} for access."
REFUSED_NO_CONTACT = " Ask the person who set up this app for access."

CONFIRM_TITLE = "Run {name}?"
CONFIRM_EXPIRY = "Asked by {who}. This card expires in {minutes} min."
RUN = "Run"
CANCEL = "Cancel"
RETRY = "Retry"
QUEUED_TITLE = "Queued · job {job_id}"
QUEUED_TEXT = "{summary}\nProgress and the result will appear in this thread. Write “status {job_id}” any time."
QUEUE_DOWN_TEXT = ("{summary}\nThe job is saved, but the queue did not answer just now; "
                   "it will be sent automatically within a few minutes. Nothing is lost.")
EXPIRED_TITLE = "Request expired"
EXPIRED_TEXT = "This request expired after {minutes} min; nothing was run. Send the command again."
CANCELLED_TITLE = "Cancelled"
CANCELLED_TEXT = "Cancelled by {who}; nothing was run."
NOT_YOURS = "Only {who} (who asked) or an admin can decide on this request."
STALE_BUTTON = "That button belongs to a request I no longer know. Send the command again."

JOB_NOT_FOUND = "There is no job “{job_id}”. Check the id (it starts with j) or write “jobs”."
NO_JOBS = "No jobs yet."
JOBS_TITLE_MINE = "Your recent jobs"
JOBS_TITLE_ALL = "Recent jobs"
NEED_JOB_ID = "Which job? Write “{command} JOB_ID”."
CANNOT_CANCEL = "Job {job_id} is already {status}; there is nothing to cancel."
CANCELLED_JOB = "Job {job_id} is cancelled."
CANNOT_RETRY = "Job {job_id} is {status}; only a FAILED job can be retried."
RETRIED = "Retrying job {job_id} from step “{step}”."
NOT_YOUR_JOB = "Only {who} (who started job {job_id}) or an admin can do that."

STORE_DOWN = "Sorry, I could not reach the job store just now, so nothing was started. Please try again in a minute."
INTERNAL = "Sorry, something went wrong on my side and nothing was started. The problem is logged; please try again."

# job messages (edited in place as the job runs)
STATE_QUEUED = "Queued"
STATE_RUNNING = "Running · step {index}/{count}: {step}"
STATE_RETRYING = "Attempt {attempt} failed: {error}\nTrying again in about {delay}."
STATE_SUCCEEDED = "✅ Done in {duration}"
STATE_FAILED = "❌ Failed at step “{step}” after {attempts} attempt(s): {error}"
STATE_CANCELLED = "Cancelled."
FAILED_HINT = "Fix what is wrong, then press Retry (or write “retry {job_id}”)."
