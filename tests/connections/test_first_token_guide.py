"""The first-token guide cannot lie: its Python script runs unchanged against a live bank (consent,
code exchange, calls, pagination, a payment in the sandbox, a refresh), and so do its curl commands."""

import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client

from bank.models import MonetaryAccount, Payment
from bank.services.customers import sandbox_customer_create
from tests.connections.oauth_helpers import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, answer_consent, consent
from tests.factories import register_app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

GUIDE = Path(django_settings.BASE_DIR) / "docs" / "guides" / "first-token.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture
def bank(live_server, settings) -> str:
    settings.OAUTH2_ISSUER = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    settings.BANK_SANDBOX = True
    return live_server.url


def test_the_python_sample_connects_calls_pays_and_refreshes(bank, alice, monkeypatch, capsys):
    application, secret = register_app(alice, "First Token")
    customer, _password = sandbox_customer_create(developer=alice)
    for name, value in {
        "BANK_URL": bank,
        "CLIENT_ID": application.client_id,
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": "https://first-token.example/cb",
        "SCOPE": "accounts:read payments:read payments:internal",
    }.items():
        monkeypatch.setenv(name, value)
    (script,) = blocks("python")
    namespace: dict[str, object] = {"__name__": "__main__"}

    def the_customer_allows(prompt: str) -> str:
        """The customer's browser: open the printed address, log in, press Allow; the address it lands on."""
        browser = Client()
        browser.force_login(customer)
        url = urlsplit(str(namespace["authorize_url"]))
        assert url.scheme + "://" + url.netloc == bank
        return answer_consent(browser, browser.get(f"{url.path}?{url.query}"))["Location"]

    monkeypatch.setattr("builtins.input", the_customer_allows)

    exec(compile(script, str(GUIDE), "exec"), namespace)  # noqa: S102  (the guide's own sample)

    out = capsys.readouterr().out
    assert "Connected with accounts:read payments:read payments:internal" in out
    assert "Customer: Test Customer 1" in out
    assert "Main account: 1000.00 EUR" in out and "Savings: 0.00 EUR" in out
    assert "Paid:" in out and "Refreshed" in out
    main = MonetaryAccount.objects.get(owner=customer, description="Main account")
    assert main.balance == Decimal("999.00")
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-1.00")).count() == 1


def test_the_curl_commands_exchange_call_and_refresh(bank, alice, account_for):
    from tests.connections.oauth_helpers import make_application

    make_application()
    account_for(alice, balance="10.00")
    auth = consent(Client(), alice)
    env = {
        "PATH": "/usr/bin:/bin",
        "BANK_URL": bank,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": REDIRECT_URI,
        "CODE": parse_qs(urlsplit(auth.location).query)["code"][0],
        "VERIFIER": auth.verifier,
    }
    exchange, call, refresh = blocks("sh")

    def run(command: str, **extra: str) -> str:
        done = subprocess.run(
            ["/bin/bash", "-c", command], env={**env, **extra}, capture_output=True, text=True, timeout=30, check=True
        )
        assert done.stdout, (command, done.stderr)
        return done.stdout

    tokens = json.loads(run(exchange))
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "accounts:read payments:read"
    answer = run(call, ACCESS_TOKEN=tokens["access_token"])
    head, _, body = answer.partition("\n\n")  # text mode reads \r\n as \n
    assert head.startswith("HTTP/1.1 200")
    assert re.search(r"(?im)^x-request-id: \S+", head) and re.search(r"(?im)^ratelimit-policy: ", head)
    assert json.loads(body)["results"][0]["balance"] == {"value": "10.00", "currency": "EUR"}
    refreshed = json.loads(run(refresh, REFRESH_TOKEN=tokens["refresh_token"]))
    assert refreshed["access_token"] != tokens["access_token"]
