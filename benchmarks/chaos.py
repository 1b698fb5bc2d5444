"""The chaos suite: many confirmed jobs through the real chat flow while things break.

Jobs of several types (``echo``, ``sleep``, ``fail --times 1``, and ``chain``: three short steps
that log every run) are asked for and confirmed through the local Chat service, as people would,
while the suite:

- kills the worker processes (SIGKILL) every few seconds;
- takes the queue (the local Cloud Tasks service) down for a while, clicks continuing;
- clicks Run two or three times at once on some cards;
- delivers real tasks again, as duplicates and as forced deliveries with other names and counts;
- answers some of the worker's Chat writes with 429 or 503 (a fault proxy in front of Chat).

With ``--queue sqs`` the tasks go through SQS (a moto server) and the relay (``ackflow sqs-relay``),
and the faults fit it: the worker kills and Chat faults as above; the relay, not the queue, is
killed (SIGKILL) and started again after the outage (SQS keeps what is sent meanwhile; clicks
continue); half the extra deliveries are copies of real messages sent to SQS again (the body the
functions send: the relay delivers each under the same task name, as SQS's at-least-once delivery
may hand a message out twice), the other half as on Cloud Tasks (the attempt in flight delivered
again under its name and count, or forced deliveries), signed as the relay signs. The
report then says what SQS holds at the end and whether the relay still runs (a relay that exited
or logged a failure of its own is a problem).

When the faults end, it waits for every job to settle (finished, and its result confirmed shown:
results wait for the space's write budget, docs/reliability.md) and gives each a verdict from the
store, the chain steps' run log and the Chat service:

- **lost**: Run was pressed and answered, and no job exists for that card;
- **doubled**: two jobs for one card; a step that ran twice at once, or twice to its end when the
  first run was not cut short by a kill; or two messages for one job;
- **stuck**: not finished within its lease plus one sweep interval after the faults ended (on SQS a
  killed holder's step always waits out its lease: no delivery takes it over before);
- **wrong**: its message in the thread does not show its final state (or is missing);
- **failed**: a job that should have succeeded ended otherwise.

    .venv/bin/python benchmarks/chaos.py                    # full scale: 1,000 jobs
    .venv/bin/python benchmarks/chaos.py --jobs 60 --outage 5 --kill-every 4   # a quick look
    .venv/bin/python benchmarks/chaos.py --jobs 200 --store firestore      # on the Firestore emulator
    .venv/bin/python benchmarks/chaos.py --jobs 200 --queue sqs            # on SQS with the relay

The test suite runs it at a small scale (tests/chaos/); docs/reliability.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ackflow.app.notify import Notifier  # noqa: E402
from ackflow.jobs.model import JobStatus  # noqa: E402
from ackflow_tools.devtools.stack import INVOKER, LocalStack, StackConfig  # noqa: E402
from ackflow_tools.emulators.chat.feed import changes  # noqa: E402
from ackflow_tools.emulators.chat.service import canonical_message  # noqa: E402
from benchmarks.faultproxy import FaultProxy  # noqa: E402

SPACES = [f"spaces/chaos{i}" for i in range(8)]
USER = {"name": "users/7001", "displayName": "Chaos", "email": "chaos@example.com"}
MIX = [("echo chaos {n}", 40), ("chain {n}", 30), ("sleep 1", 15), ("fail --times 1", 15)]
MIX_TYPES = ("echo", "chain", "sleep", "fail")
SWEEP_INTERVAL = 2.0
QUEUES = ROOT / "tests" / "support" / "fast_queues.json"


@dataclass
class Plan:
    jobs: int = 1000
    seed: int = 1
    kill_every: float = 6.0  # seconds between worker kills
    outage: float = 30.0  # seconds the queue is down
    faults_after: float = 10.0  # seconds the kills, forced deliveries and Chat faults go on after it,
    # while the jobs queued during the outage run (the window where a fault does the most harm)
    duplicate_clicks: float = 0.1  # share of cards whose Run is pressed 2–3 times at once
    forced: float = 0.3  # forced/duplicate task deliveries per job
    # the faults go on past ``faults_after`` (at most a minute more) until at least this many were
    # delivered: each waits for the worker's answer, so a loaded machine makes fewer in the window
    min_forced: int = 0
    chat_429: float = 0.05  # share of the worker's Chat writes answered 429 during the faults
    chat_5xx: float = 0.03  # … answered 503
    submitters: int = 6
    workers: int = 2
    store: str = "sqlite"  # or "firestore" (the gcloud CLI's emulator, Java)
    queue: str = "cloudtasks"  # or "sqs" (a moto server, with the relay calling the worker)
    # what is asked for, with weights (on SQS a killed `sleep`'s holder is waited out for its lease,
    # five minutes: the test suite's SQS case leaves it out to stay short)
    mix: list = field(default_factory=lambda: list(MIX))


@dataclass
class Asked:
    number: int
    text: str
    space: str
    card: dict
    clicks: int = 0
    answered: list[str] = field(default_factory=list)  # what each Run click answered
    job_id: str | None = None


@dataclass
class Report:
    plan: dict
    faults: dict
    verdicts: dict
    problems: list[str]
    seconds: dict

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"plan": self.plan, "faults": self.faults, "verdicts": self.verdicts,
                "problems": self.problems[:50], "seconds": self.seconds}


class Chaos:
    def __init__(self, plan: Plan, workdir: Path, log=print):
        self.plan = plan
        self.workdir = workdir
        self.log = log
        self.random = random.Random(plan.seed)
        self.asked: list[Asked] = []
        outage = "relay_down_s" if plan.queue == "sqs" else "queue_down_s"
        self.faults = {"worker_kills": 0, outage: 0.0, "duplicate_clicks": 0, "forced_deliveries": 0,
                       "duplicates": 0, "chat_429": 0, "chat_5xx": 0}
        self.kills: list[float] = []
        self.run_log = workdir / "chain-runs.jsonl"
        self.proxy = FaultProxy(seed=plan.seed)
        self.stack: LocalStack | None = None
        self.http = requests.Session()
        self._lock = threading.Lock()
        self._stop_faults = threading.Event()
        self._notifier: Notifier | None = None

    # -- the pipeline -------------------------------------------------------------------------------
    def _queues_file(self) -> Path:
        """The tests' fast queues, with enough attempts to outlast the faults: a kill of the worker
        fails every attempt made while it restarts, as a crashed instance would not in the cloud."""
        definitions = json.loads(QUEUES.read_text())
        for queue in definitions["queues"].values():
            queue["retry_config"]["max_attempts"] = 40
        path = self.workdir / "queues.json"
        path.write_text(json.dumps(definitions))
        return path

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proxy.start()
        extra = {
            "ACKFLOW_QUEUES_FILE": str(self._queues_file()),
            "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:build_registry",
            "ACKFLOW_SWEEP_QUEUED_AFTER": str(SWEEP_INTERVAL),
            "ACKFLOW_SWEEP_STALLED_AFTER": str(SWEEP_INTERVAL),
            "ACKFLOW_SWEEP_UNSHOWN_AFTER": str(SWEEP_INTERVAL),
            "ACKFLOW_LEASE_MARGIN": "2",
            "ACKFLOW_CHAT_ENDPOINT": self.proxy.url,  # the worker's writes go through the faults
            "ACKFLOW_CHAOS_LOG": str(self.run_log),
            # the checkout's own package first: an editable install may point at another checkout
            "PYTHONPATH": os.pathsep.join((str(ROOT / "functions"), str(ROOT))),
        }
        self.stack = LocalStack(StackConfig(workdir=self.workdir / "stack", workers=self.plan.workers,
                                            sweep_interval=SWEEP_INTERVAL, extra_env=extra,
                                            min_dispatch_deadline=1, store=self.plan.store,
                                            queue_backend=self.plan.queue))
        self.stack.start()
        self.proxy.upstream = self.stack.url("chat")
        self.store = self.stack.runtime().store
        self.registry = self.stack.runtime().registry
        if self.plan.queue == "sqs":
            self._start_sqs_side()

    def _start_sqs_side(self) -> None:
        """What the suite needs to act as SQS and the relay do: a client of the moto server (copies
        of real messages go to the queue itself) and the relay's key (forced deliveries are signed
        as the relay signs them, so they need no relay running)."""
        import boto3

        from ackflow.auth.signing import LocalSigner
        from ackflow.taskqueue.sqs import SqsQueue

        env = self.stack.env()
        self.sqs = boto3.client("sqs", endpoint_url=self.stack.url("moto"), region_name=env["AWS_DEFAULT_REGION"],
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.sqs_queue = SqsQueue(endpoint=self.stack.url("moto"), region=env["AWS_DEFAULT_REGION"], client=self.sqs)
        settings = self.stack.settings()
        signer = LocalSigner.from_private_key((self.stack.workdir / "relay-key.pem").read_bytes(),
                                              "ackflow-sqs-relay")
        self.relay_token = signer.id_token(issuer=settings.relay_issuer,
                                           email=settings.invoker_service_account or "ackflow-sqs-relay",
                                           audience=settings.worker_audience or settings.worker_url, lifetime=7200)

    def stop(self) -> None:
        if self.stack:
            self.stack.stop()
        self.proxy.stop()

    # -- people ---------------------------------------------------------------------------------------
    def _ask(self, number: int) -> None:
        text = self.random_choice(number).format(n=number)
        space = SPACES[number % len(SPACES)]
        chat = self.stack.url("chat")
        sent = self.http.post(f"{chat}/_emulator/{space}:send", json={"text": text, "user": USER}, timeout=60)
        sent.raise_for_status()
        card = sent.json()["reply"]["message"]
        asked = Asked(number, text, space, card)
        with self._lock:
            self.asked.append(asked)
        presses = 1
        rng = random.Random(self.plan.seed * 7_919 + number)
        if rng.random() < self.plan.duplicate_clicks:
            presses = rng.choice((2, 3))
            with self._lock:
                self.faults["duplicate_clicks"] += presses - 1

        def press():
            answer = requests.post(f"{chat}/_emulator/{space}:click",
                                   json={"message": card["name"], "button": "Run", "user": USER}, timeout=60)
            asked.answered.append(json.dumps(answer.json(), ensure_ascii=False))

        threads = [threading.Thread(target=press) for _ in range(presses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        asked.clicks = presses

    def random_choice(self, number: int) -> str:
        rng = random.Random(self.plan.seed * 1_000_003 + number)
        total = sum(weight for _, weight in self.plan.mix)
        pick = rng.uniform(0, total)
        for text, weight in self.plan.mix:
            pick -= weight
            if pick <= 0:
                return text
        return self.plan.mix[0][0]

    # -- faults ---------------------------------------------------------------------------------------
    def _kill_workers(self) -> None:
        while not self._stop_faults.wait(self.plan.kill_every * self.random.uniform(0.6, 1.4)):
            self.stack.procs["worker"].kill()  # every worker process: a run cut short ended by now
            self.kills.append(time.time())
            self.stack.start_part("worker")
            self.faults["worker_kills"] += 1

    def _queue_outage(self, at: float) -> None:
        """The queue (the local Cloud Tasks service) down for a while; on SQS, the relay: SQS itself
        keeps the messages sent meanwhile (the functions still send to it), and those the relay had
        received when it died come back when their visibility timeout ends."""
        if self._stop_faults.wait(at) or self.plan.outage <= 0:
            return
        part, what = ("relay", "relay") if self.plan.queue == "sqs" else ("tasks", "queue")
        self.log(f"{what} down for {self.plan.outage:g} s")
        down = time.time()
        self.stack.procs[part].kill()
        self._stop_faults.wait(self.plan.outage)
        self.stack.start_part(part)
        self.faults[f"{what}_down_s"] = round(time.time() - down, 1)
        self.log(f"{what} back")

    def _forced_deliveries(self) -> None:
        from ackflow.taskqueue.base import task_name

        sqs = self.plan.queue == "sqs"
        token, minted = (self.relay_token, time.time()) if sqs else (None, 0.0)
        while not self._stop_faults.wait(0.05):
            with self._lock:
                candidates = [a for a in self.asked if a.answered]
            if not candidates:
                continue
            asked = self.random.choice(candidates)
            job_id = self._job_of(asked)
            if not job_id:
                continue
            try:
                job = self.store.get_job(job_id)
            except Exception:
                continue
            if not sqs and time.time() - minted > 600:
                try:  # the local token service is the Cloud Tasks service's: down with the queue
                    token = self.http.post(
                        f"{self.stack.url('tasks')}/v1/projects/-/serviceAccounts/{INVOKER}:generateIdToken",
                        json={"audience": self.stack.worker_url}, timeout=10).json()["token"]
                except requests.RequestException:
                    continue
                minted = time.time()
            step = min(job.current, len(job.steps) - 1)
            name = task_name(job.id, step, job.generation)
            holder = job.steps[step].holder
            if sqs and self.random.random() < 0.5:
                if not self._copy_to_queue(job, step):
                    continue
                if self._forced_enough():
                    return
                continue
            # an attempt in flight: one whose lease has not ended (a holder whose lease ended is
            # dead; the sweep releases its step, and a "duplicate" of it would be a delivery of an
            # attempt long over, which a slow read of the store once sent: see docs/reliability.md)
            in_flight = holder is not None and (job.steps[step].lease_until or 0) > time.time() + 1
            if self.random.random() < 0.5 and in_flight and holder.task == name:
                # a duplicate of the attempt in flight, as Cloud Tasks may deliver one ("in rare
                # cases, more than once"): its task name and retry count. Never a higher count of
                # that task: Cloud Tasks retries a task only after its attempt ended, and a later
                # retry takes the step over by design (lifecycle.claim). With no holder read, the
                # attempt's count is unknown (one may be claiming right now): a forced delivery then.
                retry = holder.retry
            else:
                name, retry = f"forced-{self.random.getrandbits(40):x}", self.random.randint(0, 3)
            headers = {"Authorization": f"Bearer {token}", "X-CloudTasks-TaskName": name,
                       "X-CloudTasks-TaskRetryCount": str(retry)}
            if sqs:  # what the relay adds
                headers.update({"X-CloudTasks-QueueName": job.queue, "User-Agent": "ackflow-sqs-relay"})
            try:
                answer = self.http.post(self.stack.worker_url, timeout=60, headers=headers,
                                        json={"job_id": job.id, "step": step, "generation": job.generation})
            except requests.RequestException:
                continue  # the worker was being killed
            with self._lock:
                self.faults["forced_deliveries"] += 1
                if not name.startswith("forced-"):
                    self.faults["duplicates"] += 1
            if answer.status_code >= 500 and answer.status_code != 503:
                self.log(f"a forced delivery got {answer.status_code}: {answer.text[:200]}")
            if self._forced_enough():
                return

    def _forced_enough(self) -> bool:
        return self.faults["forced_deliveries"] >= self.plan.forced * self.plan.jobs

    def _copy_to_queue(self, job, step: int) -> bool:
        """A copy of the step's real message sent to SQS again, as SQS's at-least-once delivery may
        hand a message out twice: the body the functions send (the same ``SqsQueue.enqueue``), so
        the relay delivers it under the same task name with a receive count of its own (a copy
        received once is attempt 0, as the original's first delivery was)."""
        from ackflow.app.dispatch import step_task

        try:
            self.sqs_queue.enqueue(step_task(job, step, self.registry.get(job.type).timeout))
        except Exception as exc:
            self.log(f"a copy to the queue failed: {exc}")
            return False
        with self._lock:
            self.faults["forced_deliveries"] += 1
            self.faults["duplicates"] += 1
        return True

    # -- the run ----------------------------------------------------------------------------------------
    def run(self) -> Report:
        plan = self.plan
        started = time.time()
        self.proxy.set_faults(plan.chat_429, plan.chat_5xx)
        fault_threads = [threading.Thread(target=self._kill_workers, daemon=True),
                         threading.Thread(target=self._queue_outage, args=(3.0,), daemon=True),
                         threading.Thread(target=self._forced_deliveries, daemon=True)]
        for thread in fault_threads:
            thread.start()
        with ThreadPoolExecutor(plan.submitters) as pool:
            list(pool.map(self._ask_safely, range(plan.jobs)))
        submitted = time.time()
        # faults last until the outage is over, then go on while the queued jobs run
        while any(t.is_alive() for t in fault_threads[1:2]):
            time.sleep(0.2)
        self._stop_faults.wait(plan.faults_after)
        longest = time.time() + 60
        while self.faults["forced_deliveries"] < plan.min_forced and time.time() < longest:
            time.sleep(0.2)
        self._stop_faults.set()
        for thread in fault_threads:
            thread.join(timeout=120)
        self.proxy.set_faults(0.0, 0.0)
        faults_ended = time.time()
        self.faults["chat_429"], self.faults["chat_5xx"] = self.proxy.injected()
        self.log(f"asked for {len(self.asked)} jobs in {submitted - started:.0f} s; faults ended; settling")
        deadline = faults_ended + self._allowed_wait() + 60
        settled_at = self._settle(deadline)
        verdicts, problems = self._judge(faults_ended)
        if plan.queue == "sqs":
            verdicts["sqs"] = self._sqs_state(problems)
        return Report(
            plan=plan.__dict__, faults=self.faults, verdicts=verdicts, problems=problems,
            seconds={"submitting": round(submitted - started, 1), "faults": round(faults_ended - started, 1),
                     "settled_after_faults": round(settled_at - faults_ended, 1),
                     "allowed_wait": round(self._allowed_wait(), 1)})

    def _ask_safely(self, number: int) -> None:
        for attempt in range(5):
            try:
                self._ask(number)
                return
            except requests.RequestException as exc:
                self.log(f"asking #{number} failed ({exc}); again")
                time.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"could not ask for job #{number}")

    def _allowed_wait(self, job_type: str | None = None) -> float:
        """The longest a job may wait after the faults: its lease (its type's timeout plus the
        margin) plus one sweep interval and the sweep's grace for a stalled step. Without a type,
        the longest of the mix."""
        settings = self.stack.settings()
        names = [job_type] if job_type else list(MIX_TYPES)
        lease = max(self.registry.get(name).timeout for name in names) + settings.lease_margin
        return lease + SWEEP_INTERVAL + settings.sweep_stalled_after

    def _job_of(self, asked: Asked) -> str | None:
        if asked.job_id:
            return asked.job_id
        from ackflow_tools.emulators.chat.userside import find_button

        try:
            params = {p["key"]: p["value"] for p in find_button(asked.card, "Run")["parameters"]}
            asked.job_id = self.store.get_confirmation(params["confirmation"]).job_id
        except Exception:
            return None
        return asked.job_id

    def _settle(self, deadline: float) -> float:
        """Wait until every job ended and its result is shown. A settled job is not read again: this
        process shares the 2 cores with the pipeline, and reading 1,000 jobs twice a second slowed it."""
        pending = list(self.asked)
        while time.time() < deadline:
            still = []
            for asked in pending:
                job_id = self._job_of(asked)
                try:
                    job = self.store.get_job(job_id) if job_id else None
                except Exception:
                    job = None
                if job is None or not job.status.finished or job.message_due:  # ended, and its result shown
                    still.append(asked)
            pending = still
            if not pending:
                return time.time()
            time.sleep(1.0)
        return time.time()

    # -- verdicts -------------------------------------------------------------------------------------
    def _sqs_state(self, problems: list[str]) -> dict:
        """What SQS and the relay were left with: messages still in each queue and in its
        dead-letter queue (a dead letter of a job that succeeded is only a copy that was answered
        409 until SQS's maxReceiveCount), and whether the relay still runs. A relay that exited by
        itself, or logged a failure of its own, is a problem: its jobs would wait for the sweep."""
        state: dict = {"queues": {}}
        for name in self.registry.queues:
            counts = {}
            for label, queue in (("waiting", name), ("dead_letters", f"{name}-dlq")):
                url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
                attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                counts[label] = int(attributes.get("ApproximateNumberOfMessages", 0))
                if label == "waiting":
                    counts["in_flight"] = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
                    counts["delayed"] = int(attributes.get("ApproximateNumberOfMessagesDelayed", 0))
            state["queues"][name] = counts
        relay = self.stack.procs["relay"]
        state["relay_running"] = relay.running
        log_path = relay.log_path
        failures = [line for line in (log_path.read_text(errors="replace").splitlines() if log_path.exists() else [])
                    if "Traceback" in line or "relay of" in line and "failed" in line]
        state["relay_failures_logged"] = len(failures)
        if not relay.running:
            problems.append(f"relay: exited by itself ({relay.proc.returncode}):\n{relay.log_tail(20)}")
        for line in failures[:5]:
            problems.append(f"relay: {line[:300]}")
        return state

    def _messages(self) -> dict[str, list[dict]]:
        """Every message of the app in the chaos spaces, by client-assigned id."""
        chat = self.stack.url("chat")
        found: dict[str, dict] = {}
        for space in SPACES:
            for change in changes(self.http, chat, space):
                message = change.get("message")
                if message and change.get("kind") != "deleted":
                    found[message["name"]] = message
        by_client: dict[str, list[dict]] = {}
        for message in found.values():
            if message.get("clientAssignedMessageId"):
                by_client.setdefault(message["clientAssignedMessageId"], []).append(message)
        return by_client

    def _as_stored(self, message: dict, job) -> bool:
        """The message is exactly what the app renders for the job as the store holds it."""
        if self._notifier is None:
            self._notifier = Notifier(self.stack.runtime())
        return message.get("cardsV2") == canonical_message(self._notifier.render(job)).get("cardsV2")

    def _runs(self) -> dict[tuple[str, int], list[dict]]:
        runs: dict[tuple[str, int], dict[str, dict]] = {}
        if self.run_log.exists():
            for line in self.run_log.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill
                key = (entry["job"], entry["step"])
                # each run logs an id of its own (two copies of an SQS message share a task name)
                run_id = entry.get("run") or f"{entry['pid']}:{entry['task']}"
                run = runs.setdefault(key, {}).setdefault(run_id, {"pid": entry["pid"]})
                run[entry["event"]] = entry["at"]
        return {key: list(value.values()) for key, value in runs.items()}

    def _killed_before(self, run: dict, moment: float) -> bool:
        """Whether the run's process was killed after the run ended and before ``moment``."""
        return any(run.get("end", run.get("start", 0)) <= kill <= moment for kill in self.kills)

    def _judge(self, faults_ended: float) -> tuple[dict, list[str]]:
        counts = {"jobs": 0, "succeeded": 0, "lost": 0, "doubled": 0, "stuck": 0, "wrong": 0, "failed": 0}
        problems: list[str] = []
        messages = self._messages()
        runs = self._runs()
        jobs_by_confirmation: dict[str, int] = {}
        for row in self.store.docs.query("jobs", [], "created_at", True, 100_000):
            if row.get("confirmation_id"):
                jobs_by_confirmation[row["confirmation_id"]] = jobs_by_confirmation.get(row["confirmation_id"], 0) + 1
        longest_wait = 0.0
        by_type: dict[str, float] = {}  # the longest wait after the faults of each job type
        for asked in self.asked:
            counts["jobs"] += 1
            job_id = self._job_of(asked)
            label = f"#{asked.number} {asked.text!r}"
            if job_id is None:
                counts["lost"] += 1
                problems.append(f"lost: {label}: Run answered {asked.answered[:1]} and there is no job")
                continue
            job = self.store.get_job(job_id)
            label += f" {job.id}"
            if jobs_by_confirmation.get(job.confirmation_id, 0) > 1:
                counts["doubled"] += 1
                problems.append(f"doubled: {label}: {jobs_by_confirmation[job.confirmation_id]} jobs for one card")
            waited = (job.finished_at or time.time()) - faults_ended
            longest_wait = max(longest_wait, waited)
            by_type[job.type] = max(by_type.get(job.type, 0.0), waited)
            if not job.status.finished or waited > self._allowed_wait(job.type):
                counts["stuck"] += 1
                problems.append(f"stuck: {label} is {job.status.value} {waited:.0f} s after the faults ended "
                                f"(allowed {self._allowed_wait(job.type):.0f} s): {job.last_error}")
            expected = JobStatus.SUCCEEDED
            if job.status != expected and job.status.finished:
                counts["failed"] += 1
                problems.append(f"failed: {label} ended {job.status.value}: {job.last_error}")
            elif job.status == JobStatus.SUCCEEDED:
                counts["succeeded"] += 1
            for index in range(len(job.steps)):
                step_runs = sorted(runs.get((job.id, index), []), key=lambda r: r.get("start", 0))
                if ran_at_once(step_runs, self.kills):
                    counts["doubled"] += 1
                    problems.append(f"doubled: {label} step {index} ran twice at once")
                ended = [r for r in step_runs if "end" in r]
                finished = job.steps[index].finished_at or time.time()
                unexplained = [r for r in ended[:-1] if not self._killed_before(r, finished)]
                if unexplained:
                    counts["doubled"] += 1
                    problems.append(f"doubled: {label} step {index} ran to its end {len(ended)} times")
            shown = messages.get(job.message_id, [])
            if len(shown) > 1:
                counts["doubled"] += 1
                problems.append(f"doubled: {label} has {len(shown)} messages")
            if not shown or not _shows(shown[-1], job.status) or not self._as_stored(shown[-1], job):
                counts["wrong"] += 1
                text = json.dumps(shown[-1], ensure_ascii=False)[:300] if shown else "no message"
                problems.append(f"wrong: {label} is {job.status.value}; its message: {text}")
        counts["longest_wait_after_faults_s"] = round(longest_wait, 1)
        # each type against what it is allowed (its lease differs: a job whose holder died is taken
        # over when its lease ends, and `sleep`'s is five minutes)
        counts["longest_wait_by_type_s"] = {
            name: {"waited": round(wait, 1), "allowed": round(self._allowed_wait(name), 1)}
            for name, wait in sorted(by_type.items()) if name in MIX_TYPES}
        return counts, problems


def ran_at_once(step_runs: list[dict], kills: list[float]) -> bool:
    """Whether two runs of one step overlapped. A run that logged no end was cut short by the
    first kill after its start (kill times are noted once the processes are dead), so it lasted
    until then; one that no kill explains never ended, and overlaps every run after it."""

    def end(run: dict) -> float:
        if "end" in run:
            return run["end"]
        return min((kill for kill in kills if kill >= run.get("start", 0)), default=float("inf"))

    ordered = sorted(step_runs, key=lambda r: r.get("start", 0))
    latest = float("-inf")  # the latest end among the runs started so far
    for run in ordered:
        if run.get("start", 0) < latest:
            return True
        latest = max(latest, end(run))
    return False


def _shows(message: dict, status: JobStatus) -> bool:
    """The message says the job's final state (a quick reading; ``_as_stored`` compares it all)."""
    text = json.dumps(message, ensure_ascii=False)
    return {JobStatus.SUCCEEDED: "✅", JobStatus.FAILED: "❌", JobStatus.CANCELLED: "Cancelled"}.get(
        status, "\u0000") in text and "Running ·" not in text and "Queued" not in text


def run(plan: Plan, workdir: Path | None = None, log=print) -> Report:
    with tempfile.TemporaryDirectory(prefix="ackflow-chaos-") as temporary:
        chaos = Chaos(plan, Path(workdir or temporary), log=log)
        try:
            chaos.start()
            return chaos.run()
        finally:
            chaos.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-every", type=float, default=6.0)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--faults-after", type=float, default=10.0,
                        help="seconds the other faults go on after the queue is back")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", choices=("sqlite", "firestore"), default="sqlite",
                        help="the job store: SQLite (the default) or the Firestore emulator (needs Java)")
    parser.add_argument("--queue", choices=("cloudtasks", "sqs"), default="cloudtasks",
                        help="the task queue: the local Cloud Tasks service (the default) or SQS on a moto "
                             "server with the relay (its outage is then the relay's)")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    plan = Plan(jobs=args.jobs, seed=args.seed, kill_every=args.kill_every, outage=args.outage,
                faults_after=args.faults_after, workers=args.workers, store=args.store, queue=args.queue)
    report = run(plan, args.workdir)
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
