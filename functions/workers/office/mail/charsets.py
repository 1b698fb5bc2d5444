"""Japanese mail text as Japanese mail programs write it, not as the charset's name says.

Mail labelled Shift_JIS or ISO-2022-JP routinely carries the characters Windows added to them
(①, ㈱, ～, 髙): Python's strict codecs of those names turn each into "�" (Shift_JIS even takes
the next character with it: ㈱山田 became �且R田). So, as mail readers and the WHATWG encoding
standard do, Shift_JIS is read as Windows' cp932, ISO-2022-JP as its two-byte JIS pairs read
through cp932, and EUC-JP, when it is not plain EUC-JP, through JIS X 0213 (where ① and ㈱ sit
where NEC put them). Any other charset is Python's; an unknown one is read as UTF-8.
"""

from __future__ import annotations

SHIFT_JIS = {"shift_jis", "shift-jis", "sjis", "s-jis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932",
             "ms932", "x-ms-cp932"}
ISO_2022_JP = {"iso-2022-jp", "iso2022-jp", "iso2022jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-2",
               "iso-2022-jp-ms", "cp50220", "cp50221", "cp50222"}
EUC_JP = {"euc-jp", "eucjp", "euc_jp", "x-euc-jp", "cseucpkdfmtjapanese", "cp51932", "euc-jp-ms"}
ESCAPES = {b"\x1b$B": "jis", b"\x1b$@": "jis", b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(I": "kana"}


def _jis_pair(first: int, second: int) -> bytes:
    """A JIS X 0208 row/cell pair (0x21–0x7E each) as its Shift_JIS bytes (cp932 reads them)."""
    lead = ((first + 1) >> 1) + (0x70 if first <= 0x5E else 0xB0)
    if first & 1:
        trail = second + (0x1F if second <= 0x5F else 0x20)
    else:
        trail = second + 0x7E
    return bytes((lead, trail))


def iso2022jp_text(data: bytes) -> str:
    """ISO-2022-JP with Windows' characters (CP50220's reading): never raises."""
    out = bytearray()
    mode = "ascii"
    index = 0
    while index < len(data):
        shift = ESCAPES.get(data[index:index + 3])
        if shift is not None:
            mode, index = shift, index + 3
            continue
        byte = data[index]
        if mode == "jis" and 0x21 <= byte <= 0x7E and index + 1 < len(data) and 0x21 <= data[index + 1] <= 0x7E:
            out += _jis_pair(byte, data[index + 1])
            index += 2
            continue
        if mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(byte + 0x80)  # half-width katakana
        else:
            out.append(byte)
        index += 1
    return out.decode("cp932", "replace")


def decode_text(data: bytes, charset: str) -> str:
    """``data`` as text in the charset a mail names (the Japanese ones as above); never raises."""
    name = (charset or "utf-8").strip().strip('"').lower()
    if name in SHIFT_JIS:
        return data.decode("cp932", "replace")
    if name in ISO_2022_JP:
        return iso2022jp_text(data)
    if name in EUC_JP:
        try:
            return data.decode("euc_jp")
        except UnicodeDecodeError:
            return data.decode("euc_jis_2004", "replace")
    try:
        return data.decode(name, "replace")
    except (LookupError, ValueError, TypeError):  # a charset Python does not know, or a name it chokes on
        return data.decode("utf-8", "replace")  # (UnicodeError, a ValueError: idna takes no "replace")
