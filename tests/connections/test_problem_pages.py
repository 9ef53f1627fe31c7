"""Every problem `type` URI opens a page of the bank that explains its code, and one page lists them all."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from bank.core.errors import EXPLANATIONS, ErrorCode

pytestmark = pytest.mark.django_db


def test_every_code_has_an_explanation():
    assert set(EXPLANATIONS) == set(ErrorCode)
    assert all(text.strip().endswith((".", ")")) for text in EXPLANATIONS.values())


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/me/", {}),  # no token
        ("/api/v1/me/", {"HTTP_AUTHORIZATION": "Bearer not-a-token"}),
        ("/api/v1/no-such-thing/", {}),
    ],
)
def test_the_type_of_a_problem_opens_its_page(path, headers):
    client = Client()
    problem = client.get(path, **headers).json()

    page = client.get(urlsplit(problem["type"]).path)

    assert page.status_code == 200
    html = page.content.decode()
    assert f"<code>{problem['code']}</code>" in html
    assert str(EXPLANATIONS[ErrorCode(problem["code"])]).split("`")[0][:40] in html


def test_the_list_names_every_code_and_an_unknown_code_has_no_page():
    client = Client()
    html = client.get("/developers/problems/").content.decode()

    for code in ErrorCode:
        assert f'href="/developers/problems/{code}/"' in html
    assert client.get("/developers/problems/made_up/").status_code == 404
