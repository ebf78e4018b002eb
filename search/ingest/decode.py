"""Byte decoding for markup files (HTML pages, RSS/Atom feeds): BOMs, declared charsets, mojibake.

The bytes are trusted over what the file declares; pages and feeds both lie
about their charset, and both come through here.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

HEAD_BYTES = 4096  # what format sniffing and charset declarations look at

# UTF-32 before UTF-16: their little-endian marks share a prefix.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_PROLOG_RE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def head_text(head: bytes) -> str:
    """Decode the first bytes of a file just well enough to sniff its markup."""
    for bom, encoding in _BOMS[1:]:
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, "ignore").lstrip("\ufeff")
    return head.decode("utf-8", "ignore").lstrip("\ufeff")


_ENCODING_DECL_RE = re.compile(
    r"""(<\?xml[^>]*?encoding\s*=\s*["']|<meta[^>]+charset\s*=\s*["']?\s*)utf-?(?:16|32)[\w-]*""", re.I)


def transcode_bom(data: bytes) -> bytes:
    """A UTF-16/32 file with a byte-order mark as UTF-8 bytes, its declaration saying so; other bytes as they are.

    Every reader and detector then sees one 8-bit encoding (their zero bytes
    made UTF-16 pages and feeds look binary).
    """
    for bom, encoding in _BOMS[1:]:
        if data.startswith(bom):
            text = data[len(bom):].decode(encoding, "replace")
            return _ENCODING_DECL_RE.sub(r"\1utf-8", text, count=2).encode("utf-8")
    return data


def skip_prolog(text: str) -> int:
    """Offset of the first thing after XML declarations, processing instructions and comments."""
    pos = 0
    while (match := _PROLOG_RE.match(text, pos)) and match.end() > pos:
        pos = match.end()
    return pos


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""",
                         re.I)
# What browsers actually use for these labels (WHATWG encoding standard).
_BROWSER_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "iso-8859-9": "cp1254", "tis-620": "cp874"}
_MOJIBAKE_RE = re.compile("[ÃÂ][\u0080-\u00bf]|â€[\u0080-\u00bf\u2018-\u201e\u2122\u0153\u02dc\u00a6]")


def declared_charset(data: bytes) -> str:
    """The charset named by a <meta> or XML declaration near the top, lowercased."""
    match = _CHARSET_RE.search(data[:HEAD_BYTES])
    if not match:
        return ""
    label = (match.group(1) or match.group(2)).decode("ascii", "ignore").lower()
    return _BROWSER_ALIASES.get(label, label)


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252/latin-1 somewhere upstream ("cafÃ©")."""
    found = len(_MOJIBAKE_RE.findall(text))
    if found < 2:
        return text
    for wrong in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
        if len(_MOJIBAKE_RE.findall(fixed)) < found:
            return fixed
    return text


def _decode_strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


_UTF8_MULTIBYTE_RE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few bad bytes, not another code page: valid multi-byte sequences far outnumber the errors."""
    errors = len(data.decode("utf-8", "replace")) - len(data.decode("utf-8", "ignore"))
    return errors <= max(2, len(_UTF8_MULTIBYTE_RE.findall(data)) // 10)


def _guess_decode(data: bytes) -> str | None:
    """charset_normalizer's guess; among equally good guesses, the web's usual cp1252."""
    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    ties = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in ties):
        return _decode_strict(data, "cp1252") or str(best)
    return str(best)


def decode_html(data: bytes) -> str:
    """Decode page bytes, trusting the bytes over the declared charset.

    Valid UTF-8 wins even when the page claims otherwise (the usual lie); then
    the declared charset (UTF-8 with replacement when only a few bytes are bad:
    guessing a code page for one stray byte garbled every umlaut), then
    charset_normalizer's guess, then cp1252.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    text = _decode_strict(data, "utf-8")
    declared = declared_charset(data)
    if text is None and declared and not declared.startswith("utf"):
        text = _decode_strict(data, declared)
    if text is None and declared in ("utf-8", "utf8") and _mostly_utf8(data):
        text = data.decode("utf-8", "replace")  # a stray byte costs one character, not the whole page
    if text is None:
        text = _guess_decode(data)
    if text is None:
        text = _decode_strict(data, "cp1252") or data.decode("latin-1")
    return fix_mojibake(text)
