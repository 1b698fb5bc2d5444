"""The subset of Drive's search language (``files.list`` ``q``) the stand-in understands.

These terms, joined by ``and``, ``or`` and ``not`` and grouped by parentheses, as Drive documents
(developers.google.com/workspace/drive/api/guides/ref-search-terms; it does not document their
precedence: here ``not`` binds tightest, then ``and``, then ``or``); anything else is refused with
Drive's own "Invalid Value" answer, so a query the stand-in cannot judge never silently matches:

    '<id>' in parents          name = '…'  name != '…'      mimeType = '…'  mimeType != '…'
    trashed = true|false       appProperties has { key='…' and value='…' }   (and ``properties``)

Strings are single-quoted, a quote in one written ``\\'`` as Drive documents, a backslash
``\\\\``; a value is compared as it is (no case folding, no Unicode normalization).
"""

from __future__ import annotations

import re
from collections.abc import Callable

TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^'\\]|\\[\s\S])*')|(?P<op>!=|=|\{|\}|\(|\))|(?P<word>[A-Za-z]+))")


class QueryError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"Invalid query near {text[position:position + 20]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        tokens.append((kind, value))
        position = match.end()
    return tokens


Predicate = Callable[[dict], bool]
DEPTH = 50  # parentheses and ``not`` nested deeper are refused (Python's recursion has a limit)


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    def take(self, kind: str, value: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise QueryError("Invalid query: it ends too early")
        got_kind, got = self.tokens[self.at]
        if got_kind != kind or (value is not None and got != value):
            raise QueryError(f"Invalid query: unexpected {got!r}")
        self.at += 1
        return got

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> Predicate:
        predicate = self.either()
        if self.peek() is not None:
            raise QueryError(f"Invalid query: unexpected {self.peek()[1]!r}")
        return predicate

    def either(self) -> Predicate:
        """Terms joined by ``or`` (each one terms joined by ``and``)."""
        terms = [self.both()]
        while self.peek() == ("word", "or"):
            self.take("word", "or")
            terms.append(self.both())
        return terms[0] if len(terms) == 1 else (lambda f: any(term(f) for term in terms))

    def both(self) -> Predicate:
        terms = [self.unary()]
        while self.peek() == ("word", "and"):
            self.take("word", "and")
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else (lambda f: all(term(f) for term in terms))

    def unary(self) -> Predicate:
        """``not`` a term, a parenthesized query, or a term (nested at most ``DEPTH`` deep)."""
        self.depth += 1
        if self.depth > DEPTH:
            raise QueryError("Invalid query: nested too deeply")
        try:
            if self.peek() == ("word", "not"):
                self.take("word", "not")
                negated = self.unary()
                return lambda f: not negated(f)
            if self.peek() == ("op", "("):
                self.take("op", "(")
                inner = self.either()
                self.take("op", ")")
                return inner
            return self.term()
        finally:
            self.depth -= 1

    def term(self) -> Predicate:
        token = self.peek()
        if token is None:
            raise QueryError("Invalid query: empty")
        if token[0] == "string":
            parent = self.take("string")
            self.take("word", "in")
            self.take("word", "parents")
            return lambda f: parent in f.get("parents", [])
        field = self.take("word")
        if field in ("name", "mimeType"):
            op = self.take("op")
            if op not in ("=", "!="):
                raise QueryError(f"Invalid query: {field} {op}")
            value = self.take("string")
            return (lambda f: f.get(field) == value) if op == "=" else (lambda f: f.get(field) != value)
        if field == "trashed":
            self.take("op", "=")
            flag = self.take("word")
            if flag not in ("true", "false"):
                raise QueryError("Invalid query: trashed = true|false")
            return lambda f: bool(f.get("trashed")) == (flag == "true")
        if field in ("appProperties", "properties"):
            self.take("word", "has")
            self.take("op", "{")
            self.take("word", "key")
            self.take("op", "=")
            key = self.take("string")
            self.take("word", "and")
            self.take("word", "value")
            self.take("op", "=")
            value = self.take("string")
            self.take("op", "}")
            return lambda f: (f.get(field) or {}).get(key) == value
        raise QueryError(f"Invalid query: the local Drive service does not understand {field!r}")


def compile_query(text: str) -> Predicate:
    """A predicate over a file's resource for ``q``; QueryError when it cannot be read."""
    if not text.strip():
        return lambda f: True
    return _Parser(text).parse()
