"""The API's JSON parser: DRF's, except that JSON nested too deeply to parse is bad input (400), not
an interpreter error (500)."""

from collections.abc import Mapping
from typing import IO

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, object] | None = None
    ) -> dict[str, object]:
        try:
            parsed: dict[str, object] = super().parse(stream, media_type, parser_context)
            return parsed
        except RecursionError as exc:
            raise ParseError("JSON parse error: the document is nested too deeply.") from exc
