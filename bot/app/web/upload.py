"""An uploaded PDF read from the request stream into memory, never to disk, within a size limit.

Starlette's own form parser spools files over 1 MB to a temporary file; the verification page
promises not to store uploads, so the multipart body is parsed here as it streams in
(python-multipart's push parser) and only the one file part is kept, in memory. A declared
Content-Length over the limit is refused before a byte of the body is read; a body without
one (chunked) is refused as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from bot.errors import DpabotError

__all__ = ["UploadRefused", "read_upload"]


class UploadRefused(DpabotError):
    """The request carries no usable file; ``reason`` names the sentence the page shows."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class _OnePart:
    """Collects the first part that carries a file name; ignores the others' data."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.found = False
        self._field = bytearray()
        self._value = bytearray()
        self._in_file = False
        self._is_file = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._part_data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._is_file = False

    def _header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            _, params = parse_options_header(bytes(self._value))
            self._is_file = b"filename" in params
        self._field.clear()
        self._value.clear()

    def _headers_done(self) -> None:
        self._in_file = self._is_file and not self.found

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.data.extend(data[start:end])

    def _end(self) -> None:
        if self._in_file:
            self.found = True
        self._in_file = False


async def read_upload(
    content_type: str | None,
    content_length: str | None,
    stream: AsyncIterator[bytes],
    limit: int,
) -> bytes:
    """The uploaded file's bytes: a multipart form's file part, or a raw ``application/pdf``
    body (what a script would send). Raises :class:`UploadRefused` with a reason key."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise UploadRefused("bad_request", 400) from None
        if declared > limit:
            raise UploadRefused("too_large", 413)
    mime, params = parse_options_header(content_type or "")
    if mime == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise UploadRefused("bad_request", 400)
        part = _OnePart()
        parser = MultipartParser(boundary, part.callbacks())  # type: ignore[arg-type]
        sink = parser.write
    elif mime in (b"application/pdf", b"application/octet-stream"):
        raw = bytearray()
        part = None
        sink = raw.extend  # type: ignore[assignment]
    else:
        raise UploadRefused("no_file", 400)
    seen = 0
    try:
        async for chunk in stream:
            seen += len(chunk)
            if seen > limit:
                raise UploadRefused("too_large", 413)
            sink(chunk)
        if part is not None:
            parser.finalize()
    except UploadRefused:
        raise
    except Exception as exc:  # python-multipart raises its own errors on a malformed body
        raise UploadRefused("bad_request", 400) from exc
    data = bytes(part.data) if part is not None else bytes(raw)
    if (part is not None and not part.found) or not data:
        raise UploadRefused("no_file", 400)
    return data
