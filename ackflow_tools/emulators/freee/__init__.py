"""A local stand-in for freee: its OAuth 2.0 server and the parts of freee 請求書 API (and the
accounting API's partners) that Ackflow uses, after freee's public API reference.

- OAuth 2.0 authorization code grant (``/public_api/authorize``, ``/public_api/token``): codes
  live 10 minutes and are single-use; access tokens live 6 hours; refresh tokens live 90 days and
  are single-use: each refresh returns a new one, and a used one answers ``invalid_grant``.
- ``/iv/quotations`` and ``/iv/invoices``: list (by number), get, create (totals per tax rate,
  the tax rounded once per rate as ``tax_fraction`` says), templates. Numbers are given by the
  caller (the company's numbering is manual) and duplicates are accepted, as a lenient service
  would: not creating a second document is the caller's job.
- ``/api/1/partners``: search by keyword, create (names are unique).
- ``/api/1/users/me``: the person who authorized the app (the adapter's connection check).
- Rate limiting per company (429 with ``Retry-After`` and ``X-RateLimit-*``); freee's access limit
  (403 to every call for a while after too many, ``limits.py``); permissions the app or the person
  lacks (403, 401); and faults injected through ``/_emulator/faults`` (a status for the next N
  matching requests).

It keeps its state in memory (and in a JSON file when given one). It knows nothing of Ackflow.
"""

from __future__ import annotations

from .service import FreeeService

__all__ = ["FreeeService"]
