"""Cursor pagination (SPEC §5): newest first by id (unique and immutable, so pages stay stable while
payments arrive), `?page_size=` 1 to 200, default 50. No COUNT over the rows."""

from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from bank.core.errors import ErrorCode

MAX_PAGE_SIZE = 200


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
            raise exceptions.ValidationError(
                {
                    "page_size": [
                        exceptions.ErrorDetail(f"A whole number from 1 to {MAX_PAGE_SIZE}.", code=ErrorCode.INVALID)
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:  # DRF says 404; a malformed cursor is bad input
            raise exceptions.ValidationError(
                {
                    "cursor": [
                        exceptions.ErrorDetail("Use the next or previous link as given.", code=ErrorCode.INVALID_CURSOR)
                    ]
                }
            ) from exc
