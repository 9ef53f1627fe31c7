"""Cursor pagination: newest first by id (unique and immutable, so pages stay stable while payments
arrive), `?page_size=` 1 to 200, default 50. No COUNT over the rows. A cursor is only ever one the
API handed out: anything else, however well encoded, is a 400."""

import binascii
import re
from base64 import b64decode
from urllib import parse

from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from bank.core.errors import ErrorCode

MAX_PAGE_SIZE = 200
POSITION = re.compile(r"^[0-9]{1,18}$")  # an id: what "-id" ordering puts in a cursor


def _invalid(field: str, message: str, code: ErrorCode) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [exceptions.ErrorDetail(message, code=code)]})


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise _invalid("page_size", f"A whole number from 1 to {MAX_PAGE_SIZE}.", ErrorCode.INVALID)
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            offset = int(tokens.get("o", ["0"])[0])
            reverse = tokens.get("r", ["0"])[0]
            position = tokens.get("p", [None])[0]
        except (ValueError, UnicodeError, binascii.Error):
            tokens, offset, reverse, position = {}, -1, "", None
        if (
            not tokens
            or set(tokens) - {"o", "r", "p"}
            or any(len(values) != 1 for values in tokens.values())
            or not 0 <= offset <= self.offset_cutoff
            or reverse not in ("0", "1")
            or (position is not None and not POSITION.match(position))
        ):
            raise _invalid("cursor", "Use the next or previous link as given.", ErrorCode.INVALID_CURSOR)
        return Cursor(offset=offset, reverse=reverse == "1", position=int(position) if position is not None else None)

    def get_paginated_response_schema(self, schema: dict[str, object]) -> dict[str, object]:
        """DRF's, with example links of this API (DRF's `next` example ends in a stray quote, which
        is not a URI)."""
        paginated = super().get_paginated_response_schema(schema)
        links = paginated["properties"]
        assert isinstance(links, dict)
        base = "https://bank.example/api/v1/monetary-accounts/1/payments/?cursor="
        links["next"]["example"] = base + "cD00ODY%3D"
        links["previous"]["example"] = base + "cj0xJnA9NDg3"
        return paginated
