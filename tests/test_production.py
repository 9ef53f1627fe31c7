"""The production settings and the container's start command, run outside Docker."""

import concurrent.futures
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from bench.servers import BIN, ROOT, clean_env, database_url_of_this_run, free_port, running
from bench.tokens import issue_token
from connections.services.connections import connection_grant
from tests.connections.fapi_helpers import ASSERTION_TYPE, Key, assertion, make_fapi_application
from tests.connections.oauth_helpers import CLIENT_ID, CLIENT_SECRET, make_application
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.slow

SECRET = "x" * 20 + "-production-test-secret-key-0123456789"


def production_env(**extra: str) -> dict[str, str]:
    defaults = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": REDIS_URL,
    }
    return clean_env(**{**defaults, **extra})


def test_production_refuses_to_start_without_its_secrets():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr
    env = production_env(DJANGO_ALLOWED_HOSTS="")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_ALLOWED_HOSTS must list" in result.stderr
    env = production_env(REDIS_URL="")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "REDIS_URL must be set" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied by the tests that use it
GUNICORN = [str(BIN / "gunicorn"), "config.wsgi:application", "--config", "config/gunicorn.py"]
# The load balancer terminates TLS and says so; the production settings trust this header.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


@contextlib.contextmanager
def production_servers(count: int, *, tls: tuple[Path, Path] | None = None, **settings: str) -> Iterator[list[str]]:
    """`count` processes of the production command, sharing this run's database and Redis, with the
    static files collected as the Dockerfile does, and `settings` in their environment. With `tls`
    (a certificate and its key) each speaks https itself and is its own issuer."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=production_env(), check=True
    )
    with contextlib.ExitStack() as stack:
        urls = []
        for _ in range(count):
            port = free_port()
            url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
            encrypted = (
                {"GUNICORN_CERTFILE": str(tls[0]), "GUNICORN_KEYFILE": str(tls[1]), "OAUTH2_ISSUER": url} if tls else {}
            )
            env = production_env(
                DATABASE_URL=database_url_of_this_run(),
                REDIS_URL=REDIS_URL,
                GUNICORN_BIND=f"127.0.0.1:{port}",
                GUNICORN_WORKERS="2",
                **encrypted,
                **settings,
            )
            ready = f"{url}/healthz"
            stack.enter_context(running(GUNICORN, env=env, ready_url=ready, trust=tls[0] if tls else None))
            urls.append(url)
        yield urls


def cookies_of(response: httpx.Response) -> dict[str, str]:
    # The cookies are Secure (__Host-); over loopback HTTP the client must hand them back itself.
    return {cookie.name: cookie.value or "" for cookie in response.cookies.jar}


def cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in jar.items())}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_container_start_command_serves_health_login_and_the_api(alice):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]' in dockerfile
    make_account(alice, balance="12.00")
    # The production settings hash passwords with PBKDF2 (the tests' fast hasher is not among them).
    alice.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    alice.save(update_fields=["password"])
    app = make_application()
    connection = connection_grant(
        user=alice, application=app, scopes=["accounts:read"], accounts=alice.owned_accounts.all()
    )
    token = issue_token(connection)

    with production_servers(1) as (url,), httpx.Client(base_url=url, headers=BEHIND_TLS) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok"})

        login_page = client.get("/accounts/login/")
        jar = cookies_of(login_page)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        assert csrf and "__Host-csrftoken" in jar
        origin = f"https://{url.removeprefix('http://')}"
        logged_in = client.post(
            "/accounts/login/",
            data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1)},
            headers={"Referer": f"{origin}/accounts/login/", "Origin": origin, **cookie_header(jar)},
        )
        assert logged_in.status_code == 302, logged_in.text[:300]
        jar |= cookies_of(logged_in)
        assert "__Host-sessionid" in jar
        home = client.get("/", headers=cookie_header(jar))
        assert home.status_code == 200 and "Hello, Alice" in home.text

        api = client.get("/api/v1/monetary-accounts/", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200
        assert api.json()["results"][0]["balance"] == {"value": "12.00", "currency": "EUR"}

    # Sessions live in Redis, shared by every process.
    assert any(b"django.contrib.sessions" in key for key in redis.Redis.from_url(REDIS_URL).keys("*"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_through_one_process_is_refused_by_the_other_at_once(alice):
    make_account(alice)
    app = make_application()
    connection = connection_grant(
        user=alice, application=app, scopes=["accounts:read"], accounts=alice.owned_accounts.all()
    )
    token = issue_token(connection)
    bearer = {"Authorization": f"Bearer {token}", **BEHIND_TLS}

    with production_servers(2) as (first, second), httpx.Client(headers=bearer) as client:
        assert client.get(f"{first}/api/v1/me/").status_code == 200
        assert client.get(f"{second}/api/v1/me/").status_code == 200

        revoked = client.post(
            f"{first}/o/revoke_token/",
            data={"token": token, "token_type_hint": "access_token"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            headers=BEHIND_TLS,
        )
        assert revoked.status_code == 200

        refused = client.get(f"{second}/api/v1/me/")
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_production_logs_are_json_lines_on_stdout():
    script = "import logging; logging.getLogger('bank').warning('hello %s', 'world')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"level": "WARNING", "logger": "bank", "message": "hello world"}.items() <= lines[-1].items()
    assert "time" in lines[-1]


def with_production_password(*customers) -> None:
    """The production settings hash passwords with PBKDF2 (the tests' fast hasher is not among them)."""
    for customer in customers:
        customer.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        customer.save(update_fields=["password"])


def log_in(url: str, username: str, password: str, *, forwarded_for: str = "") -> httpx.Response:
    """The login form, as a browser behind the load balancer posts it (the balancer adds the
    client's address to X-Forwarded-For)."""
    headers = {**BEHIND_TLS, **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
    with httpx.Client(base_url=url, headers=headers) as client:
        page = client.get("/accounts/login/")
        jar = cookies_of(page)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        origin = f"https://{url.removeprefix('http://')}"
        response = client.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf.group(1)},
            headers={"Referer": f"{origin}/accounts/login/", "Origin": origin, **cookie_header(jar)},
        )
        response.extensions["jar"] = jar | cookies_of(response)
        return response


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_behind_a_proxy_a_lockout_spares_the_customer_and_rotation_buys_no_guesses(alice, bob):
    with_production_password(alice, bob)
    home, attacker = "198.51.100.20", "203.0.113.66"
    limits = {
        "TRUSTED_PROXY_COUNT": "1",
        "LOGIN_FAILURES_PER_USERNAME": "8/15min",
        "LOGIN_FAILURES_PER_ADDRESS": "10/15min",
    }
    with production_servers(1, **limits) as (url,):
        assert log_in(url, "alice", PASSWORD, forwarded_for=home).status_code == 302

        # Five wrong passwords from one address lock alice there, and only there. What the client
        # writes into X-Forwarded-For itself is ignored: the balancer's entry is the last one.
        answers = [log_in(url, "alice", "wrong", forwarded_for=f"{home}, {attacker}").status_code for _ in range(5)]
        assert answers == [200, 200, 200, 200, 429]  # the fifth failure locks
        assert log_in(url, "alice", PASSWORD, forwarded_for=attacker).status_code == 429
        assert log_in(url, "alice", PASSWORD, forwarded_for=home).status_code == 302

        # Rotating addresses does not buy more guesses: past 8 failures for her username, a new
        # address is refused even with the right password; her own address still works.
        for n in range(3):
            log_in(url, "alice", "wrong", forwarded_for=f"203.0.113.{100 + n}")
        assert log_in(url, "alice", PASSWORD, forwarded_for="203.0.113.150").status_code == 429
        assert log_in(url, "alice", PASSWORD, forwarded_for=home).status_code == 302

        # One address that fails for many usernames is locked for everyone.
        for n in range(10):
            log_in(url, f"nobody-{n}", "wrong", forwarded_for="192.0.2.50")
        assert log_in(url, "bob", PASSWORD, forwarded_for="192.0.2.50").status_code == 429
        assert log_in(url, "bob", PASSWORD, forwarded_for="192.0.2.51").status_code == 302


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_step_up_limit_holds_across_processes(alice):
    from bank.models import AuditEvent, DraftPayment
    from bank.services.drafts import draft_payment_create

    with_production_password(alice)
    main = make_account(alice, balance="50.00")
    entry = {"amount": "5.00", "counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000", "name": "X"}}
    draft = draft_payment_create(customer=alice, source=main, entries=[entry], actor=alice)

    with production_servers(2) as urls:
        jar = log_in(urls[0], "alice", PASSWORD).extensions["jar"]

        def guess(n: int) -> int:
            url = urls[n % 2]
            origin = f"https://{url.removeprefix('http://')}"
            page = httpx.get(f"{url}/draft-payments/", headers={**BEHIND_TLS, **cookie_header(jar)})
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert csrf, page.text[:200]
            response = httpx.post(
                f"{url}/draft-payments/{draft.pk}/approve/",
                data={"password": f"guess-{n}", "csrfmiddlewaretoken": csrf.group(1)},
                headers={**BEHIND_TLS, **cookie_header(jar), "Referer": f"{origin}/draft-payments/", "Origin": origin},
            )
            return response.status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(guess, range(20)))

    assert set(answers) == {303}
    assert AuditEvent.objects.filter(action="auth.step_up_failed", customer=alice).count() == 5
    assert DraftPayment.objects.get().status == "PENDING"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_client_assertion_replayed_to_another_process_is_refused():
    key = Key()
    make_fapi_application(key)
    signed = assertion(key)  # aud: the issuer, which both processes are
    body = {"token": "x", "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}

    with production_servers(2) as (first, second), httpx.Client(headers=BEHIND_TLS) as client:
        assert client.post(f"{first}/o/revoke_token/", data=body).status_code == 200
        replayed = client.post(f"{second}/o/revoke_token/", data=body)

    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_client"
