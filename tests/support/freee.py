"""The freee stand-in in a thread, and freee adapters connected to it as ``ackflow freee authorize``
would connect them."""

from __future__ import annotations

import requests

from ackflow_tools.emulators.freee import FreeeService
from ackflow_tools.emulators.freee.app import build_app
from ackflow_tools.emulators.web import ServerThread
from workers.office.accounting.freee import FreeeAccounting, FreeeApi, FreeeTokens, OAuthApp, StoreVault

CLIENT = ("local-client", "local-secret")


class StandIn:
    def __init__(self, **options):
        self.service = FreeeService(**options)
        self.server = ServerThread(build_app(self.service)).start()
        self.url = self.server.url
        self.app = OAuthApp(*CLIENT, self.url)

    def stop(self) -> None:
        self.server.stop()

    def approve(self) -> str:
        """A person approves the app on freee's consent page: an authorization code."""
        body = {"client_id": CLIENT[0], "redirect_uri": self.app.redirect_uri}
        return requests.post(f"{self.url}/_emulator/approve", json=body).json()["code"]

    def faults(self, *faults: dict) -> None:
        requests.put(f"{self.url}/_emulator/faults", json=list(faults)).raise_for_status()

    def tokens(self, docs, vault=None, **options) -> FreeeTokens:
        return FreeeTokens(self.app, docs, vault or StoreVault(docs), **options)

    def accounting(self, tokens: FreeeTokens, **options) -> FreeeAccounting:
        return FreeeAccounting(FreeeApi(self.url, tokens, **options), web_url=self.url + "/web")

    def documents(self, kinds: str, number: str | None = None) -> list[dict]:
        return self.service.find(kinds, number, limit=10_000)
