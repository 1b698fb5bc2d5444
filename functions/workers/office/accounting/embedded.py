"""The embedded accounting service (the default): PDFs rendered here, filed in the case folder.

A document goes to ``<case folder>/03_見積/`` (quotations) or ``05_請求/`` (invoices); the file is
created only if absent, so an issued PDF is never overwritten. An index in the job store
(collection ``accounting_local``) finds a document by our number; clients become partners there.
"""

from __future__ import annotations

import hashlib

from ackflow.errors import PermanentError
from ackflow.i18n import L_
from ackflow.store.documents import Documents, Tx

from ..money import Totals
from ..storage import marked
from . import ISSUER_FIELDS, Document, Issued, Partner, Template
from .pdf import render

INDEX = "accounting_local"
PARTNERS = "accounting_local_partners"
FOLDERS = {"quotation": "03_見積", "invoice": "05_請求"}
TEMPLATES = {"quotation": [Template("standard", "標準（見積書）")],
             "invoice": [Template("standard", "標準（適格請求書）")]}


class EmbeddedAccounting:
    service = "embedded"
    issuer_printed = ISSUER_FIELDS  # all of them, on the PDF

    def __init__(self, docs: Documents, storage, font: str = ""):
        self.docs = docs
        self.storage = storage
        self.font = font

    def check(self) -> None:
        from .pdf import font_characters

        # the one thing that can be missing: say so before a number is taken (and read the font's
        # characters now, not inside the transaction that decides the document)
        font_characters(self.font)

    def check_document(self, document: Document) -> None:
        from .pdf import missing_glyphs

        missing = missing_glyphs(document, self.font)
        if missing:
            raise PermanentError(L_(
                "The document’s font cannot print {chars} in a name (the recipient or the issuer): write it "
                "another way (e.g. 吉 for 𠮷), or set ACKFLOW_OFFICE_ESTIMATE_FONT to a font that has it. "
                "Nothing was numbered.",
                chars=" ".join(missing[:10]) + (" …" if len(missing) > 10 else "")))

    def path_of(self, document: Document) -> str:
        return f"{document.folder}/{FOLDERS[document.kind]}/{document.file_name}"

    def issue(self, document: Document) -> Issued:
        found = self.fetch(document.kind, document.number)
        if found is not None:
            return found
        path = self.path_of(document)
        with marked(document=_index_id(document.kind, document.number)):  # Drive: ackflowDocument
            created = self.storage.create(path, render(document, self.font), "application/pdf")
        if not created:
            self._issued_here(document, path)  # a PDF filed before a crash is kept as it is
        issued = Issued(document.kind, document.number, self.service, ref=path, link=self.storage.link(path),
                        totals=document.totals, path=path)

        def record(tx: Tx) -> Issued:
            existing = tx.get(INDEX, _index_id(document.kind, document.number))
            if existing is not None:
                return _issued(existing)
            tx.set(INDEX, _index_id(document.kind, document.number), issued.to_dict())
            return issued

        return self.docs.transaction(record)

    def _issued_here(self, document: Document, path: str) -> None:
        """The file already at ``path`` is this document filed before a crash, or else something a
        person put there (a draft, a file of the same name from elsewhere): never taken as issued,
        never replaced; the step fails saying what to move, and Retry issues it."""
        from .pdf import marker

        if marker(document) not in self.storage.read(path):
            folder, _, name = path.rpartition("/")
            raise PermanentError(L_(
                "A file named {name} is already in {folder}, and it is not the document Ackflow issues as "
                "{number}. Move or rename that file, then Retry: the document is issued with the same number.",
                name=name, folder=folder, number=document.number))

    def fetch(self, kind: str, number: str) -> Issued | None:
        data = self.docs.get(INDEX, _index_id(kind, number))
        return _issued(data) if data else None

    def templates(self, kind: str) -> list[Template]:
        return list(TEMPLATES[kind])

    def partner(self, name: str) -> Partner:
        key = hashlib.sha256(name.encode()).hexdigest()[:32]

        def apply(tx: Tx) -> Partner:
            existing = tx.get(PARTNERS, key)
            if existing is None:
                existing = {"id": key, "name": name}
                tx.set(PARTNERS, key, existing)
            return Partner(existing["id"], existing["name"])

        return self.docs.transaction(apply)


def _index_id(kind: str, number: str) -> str:
    return f"{kind}:{number}"


def _issued(data: dict) -> Issued:
    return Issued(data["kind"], data["number"], data["service"], data["ref"], data["link"],
                  Totals.from_dict(data["totals"]), data.get("path", ""))
