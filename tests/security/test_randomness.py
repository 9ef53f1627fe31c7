"""Tokens, codes and secrets are unique and carry at least 128 bits of randomness: a thousand of each,
drawn through the bank's own code: tokens from the token endpoint, codes from the authorization
server the bank configures, client ids and secrets from the developers' registration service."""

import math
import string

import pytest
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from oauthlib import common

from tests.connections.oauth_helpers import consent, exchange, make_application, refresh
from tests.factories import UserFactory, make_account, register_app

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ALPHABET = set(common.UNICODE_ASCII_CHARACTER_SET)  # 62 letters and digits


def entropy_bits(values: list[str], alphabet: set[str]) -> float:
    """Bits of a uniformly random string over `alphabet` of the shortest length seen."""
    assert all(set(value) <= alphabet for value in values)
    return min(len(value) for value in values) * math.log2(len(alphabet))


def test_the_server_uses_the_system_random_generators():
    assert oauth2_settings.ACCESS_TOKEN_GENERATOR is None  # → oauthlib: SystemRandom, 30 of 62 characters
    assert oauth2_settings.REFRESH_TOKEN_GENERATOR is None
    assert oauth2_settings.CLIENT_SECRET_GENERATOR_LENGTH >= 64


def test_a_thousand_issued_tokens_are_unique_and_unguessable(client, alice):
    make_account(alice)
    make_application()
    body = exchange(client, consent(client, alice)).json()
    issued = [body["access_token"], body["refresh_token"]]
    for _ in range(499):
        body = refresh(client, body["refresh_token"]).json()
        issued += [body["access_token"], body["refresh_token"]]

    assert len(issued) == 1000 and len(set(issued)) == 1000
    assert entropy_bits(issued, ALPHABET) >= 128


def test_a_thousand_codes_are_unique_and_unguessable(client, alice):
    make_account(alice)
    make_application()
    real = consent(client, alice).code  # what the authorization endpoint really issues
    grant = get_oauthlib_core().server.auth_grant  # the authorization-code grant the bank configures
    request = common.Request("https://bank.example/o/authorize/")
    codes = [real] + [grant.create_authorization_code(request)["code"] for _ in range(999)]

    assert len(set(codes)) == 1000
    assert len(real) == len(codes[1])
    assert entropy_bits(codes, ALPHABET) >= 128


def test_a_thousand_client_secrets_and_ids_are_unique_and_unguessable():
    developer = UserFactory()
    registered = [
        register_app(developer, f"App {n}", site="https://app.example", redirect_uri="https://app.example/callback")
        for n in range(1000)
    ]
    secrets = [secret for _, secret in registered]
    ids = [application.client_id for application, _ in registered]
    alphabet = set(string.ascii_letters + string.digits)

    assert len(set(secrets)) == 1000 and len(set(ids)) == 1000
    assert entropy_bits(secrets, alphabet) >= 128
    assert entropy_bits(ids, alphabet) >= 128
