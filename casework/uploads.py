"""What an uploaded file is, read from its bytes: the type a browser declares is the sender's
word, and a program renamed report.pdf is declared as a PDF.

filetype (pure Python, no system library to install on every machine) reads the signature at
the start of the file, and for ZIP-based documents the first entries, which tells a DOCX or an
ODT from a bare ZIP archive. Plain text has no signature: it is text when the whole file is
UTF-8 without control characters other than tabs, line and page breaks.
"""

import filetype

SNIFF_BYTES = 8192
TEXT_CONTROLS_ALLOWED = {"\t", "\n", "\r", "\f"}


def _read_head(upload, size: int) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def _is_plain_text(upload) -> bool:
    try:
        text = _read_head(upload, -1).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ch < " " and ch not in TEXT_CONTROLS_ALLOWED or ch == "\x7f" for ch in text)


def content_type(upload) -> str | None:
    """The MIME type the file's content shows, or None when it is nothing we recognise."""
    kind = filetype.guess(_read_head(upload, SNIFF_BYTES))
    if kind is not None:
        return kind.mime
    if _is_plain_text(upload):
        return "text/plain"
    return None
