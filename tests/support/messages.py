"""Looking at a job's message in the local Chat service: does it show the store's final state, and
how many writes reached the space."""

from __future__ import annotations

import requests

from ackflow.app.notify import Notifier
from ackflow.jobs.model import Job
from ackflow_tools.emulators.chat.service import canonical_message


def expected_cards(runtime, job: Job) -> list:
    """The cards the job's message must show for the job as the store has it."""
    message = Notifier(runtime).render(job)
    return canonical_message(message)["cardsV2"]


def shown_cards(chat_url: str, job: Job) -> list | None:
    response = requests.get(f"{chat_url}/v1/{job.space}/messages/{job.message_id}", timeout=10)
    return response.json().get("cardsV2") if response.ok else None


def quota_stats(chat_url: str) -> dict:
    return requests.get(f"{chat_url}/_emulator/quota", timeout=10).json()


def set_quota(chat_url: str, **body) -> dict:
    response = requests.put(f"{chat_url}/_emulator/quota", json={"reset": True, **body}, timeout=10)
    response.raise_for_status()
    return response.json()
