"""Examples that cannot lie: every request example of the OpenAPI schema is played against the demo
data, as the demo customer alice, and answers what the schema documents for it (the status, and the
shape of the documented response example where there is one)."""

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from bank.api import examples
from bank.core.errors import ErrorCode
from bank.models import AccountType, MonetaryAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_document():
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.fixture
def demo(connect, django_user_model):
    call_command("seed_demo", verbosity=0)
    alice = django_user_model.objects.get(username="alice")
    accounts = MonetaryAccount.objects.filter(owner=alice).order_by("id")
    main = accounts.get(type=AccountType.BANK)
    savings = accounts.get(type=AccountType.SAVINGS)
    return connect(alice, accounts=list(accounts)), main, savings


def _as_alice(value: Any, main: MonetaryAccount, savings: MonetaryAccount) -> Any:
    """The example with the documented customer's identifiers replaced by alice's."""
    if isinstance(value, dict):
        return {
            key: main.pk
            if key.endswith("account_id") and item == examples.MAIN_ACCOUNT_ID
            else _as_alice(item, main, savings)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_as_alice(item, main, savings) for item in value]
    return savings.iban if value == examples.SAVINGS_IBAN else value


def _as_alice_field(key: str, item: Any, main: MonetaryAccount, savings: MonetaryAccount) -> Any:
    if key.endswith("account_id") and item == examples.MAIN_ACCOUNT_ID:
        return main.pk
    return _as_alice(item, main, savings)


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "value"


def _request_examples(schema_document):
    for path, item in schema_document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in content.get("examples", {}).items():
                yield path, method, operation, name, example["value"]


def test_every_request_example_answers_as_documented(schema_document, demo):
    connected, main, savings = demo
    played = []
    for path, method, operation, name, body in _request_examples(schema_document):
        url = path.replace("{account_pk}", str(main.pk))
        response = getattr(connected.client, method)(
            url,
            json.dumps(_as_alice(body, main, savings)),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        documented = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        assert str(response.status_code) in documented, (path, method, name, response.status_code, response.content)
        answer = documented[str(response.status_code)]
        for example in answer.get("content", {}).get("application/json", {}).get("examples", {}).values():
            assert _shape(response.json()) == _shape(example["value"]), (path, method, name)
        played.append((path, method, name))
    assert len(played) >= 6  # accounts (2), payment, draft payment, card, payment request


def test_every_problem_example_is_a_real_problem(schema_document, demo):
    connected = demo[0]
    real = connected.client.get("/api/v1/monetary-accounts/999999/").json()
    problems = [
        example["value"]
        for item in schema_document["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        for example in answer.get("content", {}).get("application/problem+json", {}).get("examples", {}).values()
    ]
    assert problems
    for problem in problems:
        assert problem["code"] in ErrorCode
        assert urlsplit(problem["type"]).path == reverse("problem-type", args=[problem["code"]])
        assert set(problem) == set(real)


def test_the_documented_refusal_of_a_payment_to_someone_else_is_what_the_api_answers(demo, django_user_model):
    connected, main, savings = demo
    bob_main = MonetaryAccount.objects.filter(owner__username="bob", type=AccountType.BANK).get()
    body = _as_alice(examples.PAYMENT_CREATE[0].value, main, savings)
    body["counterparty_alias"] = {"type": "IBAN", "value": bob_main.iban, "name": "Bob de Vries"}
    documented = next(e.value for e in examples.PAYMENT_CREATE if e.status_codes == ["403"])

    response = connected.client.post(f"/api/v1/monetary-accounts/{main.pk}/payments/", body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == documented["code"]
    assert response.json()["detail"] == documented["detail"]
