"""After a form is posted, the customer's pages answer 303 See Other: the browser follows with a
GET, so a reload never posts the form again."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect


def see_other(to: str, *args: Any) -> HttpResponse:
    response = redirect(to, *args)
    response.status_code = 303
    return response
