"""Every URL the project routes, for the tests that check all of them."""

import re
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def all_routes() -> list[tuple[str, Any]]:
    """(route, view callback) for every URL pattern, with its full prefix."""
    found: list[tuple[str, Any]] = []

    def walk(patterns: Any, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append((prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def concrete(route: str, value: int | str = 1) -> str:
    """A path for a route, with `value` for every parameter."""
    route = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000001", route)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", str(value), route)
    path = re.sub(r"<(?:\w+:)?\w+>", str(value), path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")
