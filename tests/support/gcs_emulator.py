"""gcp-storage-emulator (PyPI) as Cloud Storage answers a multipart upload: the file's part is kept
as the bytes sent, whatever its type. The package parses the whole body with ``email``'s parser, so
a file typed ``message/*`` or ``multipart/*`` (a saved .eml) became a nested mail, and its upload
failed with a TypeError where Cloud Storage stores any type as given. Run as a script with the
package's own arguments (``tests/support/office.py``'s ``GcsEmulator``)."""

from __future__ import annotations

import json
import sys
from email.parser import BytesHeaderParser

from gcp_storage_emulator import server

_package_read_data = server._read_data


def parts(body: bytes, boundary: str) -> list[tuple[str, bytes]]:
    """The parts of a multipart body as (Content-Type, bytes): split at each delimiter (CRLF, "--"
    and the boundary, RFC 2046), nothing inside a part parsed."""
    delimiter = b"\r\n--" + boundary.encode("ascii")
    found = []
    for piece in (b"\r\n" + body).split(delimiter)[1:]:
        if piece.startswith(b"--"):  # the closing delimiter
            break
        head, _, content = piece.split(b"\r\n", 1)[1].partition(b"\r\n\r\n")
        found.append((BytesHeaderParser().parsebytes(head + b"\r\n\r\n").get_content_type(), content))
    return found


def read_data(request_handler, query):
    """A ``multipart/related`` upload read by its boundary, byte for byte (the metadata, then the
    file); anything else as the package reads it."""
    if not (request_handler.headers.get("Content-Type") or "").startswith("multipart/related"):
        return _package_read_data(request_handler, query)
    raw = server._decode_raw_data(server._read_raw_data(request_handler), request_handler)
    if not raw:
        return None
    (_, meta), (content_type, content) = parts(raw, request_handler.headers.get_param("boundary"))
    return {"meta": json.loads(meta), "content": content, "content-type": content_type}


if __name__ == "__main__":
    server._read_data = read_data
    from gcp_storage_emulator.__main__ import main

    sys.exit(main(sys.argv[1:]))
