"""Rules that hold for the whole API: every routed action declares scopes, the gate fails closed,
authentication is by bearer header only, and every error is problem details without internals."""

import pytest
from rest_framework.test import APIClient

from bank.api import views
from bank.api.permissions import HasActionScopes
from bank.models import MonetaryAccount
from connections import scopes as scope_table
from tests.factories import make_account
from tests.routes import all_routes, concrete

pytestmark = pytest.mark.django_db

# Views under /api/v1/ that any valid token may call, with the reason (SPEC §5).
ANY_TOKEN = {
    views.MeView: "GET /api/v1/me/ answers for any valid token",
    views.NotificationFilterViewSet: "§9: any valid token manages its own connection's filters; "
    "the service checks each category's scope",
}


def api_routes():
    """(pattern, view class, {method: action}) for every route under /api/v1/."""
    return [
        (route, getattr(callback, "cls", None), getattr(callback, "actions", None))
        for route, callback in all_routes()
        if route.startswith("api/v1/")
    ]


def test_every_routed_action_declares_known_scopes_and_every_create_is_idempotent():
    routes = api_routes()
    assert len(routes) >= 12
    for route, cls, actions in routes:
        if actions is None or cls in ANY_TOKEN:
            assert cls in ANY_TOKEN, f"{route}: a plain APIView must be reviewed into ANY_TOKEN"
            if actions and "create" in actions.values():
                assert getattr(cls.create, "idempotent", False), f"{route}: create without Idempotency-Key"
            continue
        assert HasActionScopes in cls.permission_classes, route
        for method, action in actions.items():
            alternatives = cls.required_scopes_by_action.get(action)
            assert alternatives, f"{route} {method.upper()} ({action}) declares no scope"
            for group in alternatives:
                assert group and set(group) <= set(scope_table.ALL), f"{route} {action}: unknown scope in {group}"
            if action == "create":
                assert getattr(getattr(cls, action), "idempotent", False), f"{route}: create without Idempotency-Key"


def test_an_action_without_a_declaration_is_refused_to_every_token(alice, connect, monkeypatch):
    main = make_account(alice)
    app = connect(alice, accounts=[main])  # every scope there is
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    assert app.get(path).status_code == 200

    monkeypatch.setattr(views.PaymentViewSet, "required_scopes_by_action", {"create": [["payments:internal"]]})

    assert app.get(path).status_code == 403


def test_without_a_token_every_route_is_401_with_www_authenticate(alice):
    client = APIClient()
    main = make_account(alice)
    for route, _, _ in api_routes():
        path = concrete(route.replace("(?P<account_pk>[0-9]+)", str(main.pk)))
        for method in ("get", "post", "patch"):
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code == 401, (method, path, response.status_code)
            assert response["WWW-Authenticate"] == 'Bearer realm="api",error="invalid_token"'
            assert response["Content-Type"] == "application/problem+json"


def test_a_forged_or_expired_token_is_401(alice, connect):
    from django.utils import timezone

    from connections.models import AccessToken

    app = connect(alice, scopes=["accounts:read"], accounts=[make_account(alice)])
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer " + "A" * 43)
    assert forged.get("/api/v1/me/").status_code == 401

    AccessToken.objects.filter(connection=app.connection).update(expires=timezone.now())
    response = app.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_token_in_the_query_string_or_body_is_not_accepted(alice, connect):
    main = make_account(alice)
    app = connect(alice, accounts=[main])
    anonymous = APIClient()

    assert anonymous.get("/api/v1/me/", {"access_token": app.token}).status_code == 401
    assert (
        anonymous.post(
            "/api/v1/monetary-accounts/", {"access_token": app.token, "type": "BANK", "description": "x"}, format="json"
        ).status_code
        == 401
    )
    form = anonymous.post(
        "/api/v1/monetary-accounts/",
        f"access_token={app.token}&type=BANK&description=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code in (401, 415)  # JSON only: a form body is refused before anyone reads it
    assert not MonetaryAccount.objects.filter(description="x").exists()


def test_unrouted_methods_are_405(alice, connect):
    main = make_account(alice)
    app = connect(alice, accounts=[main])

    assert app.client.options("/api/v1/monetary-accounts/").status_code == 405
    assert app.client.delete(f"/api/v1/monetary-accounts/{main.pk}/").status_code == 405
    assert app.client.put(f"/api/v1/monetary-accounts/{main.pk}/", {}, format="json").status_code == 405


def test_an_unexpected_error_is_a_bare_500_without_internals(alice, connect, monkeypatch):
    main = make_account(alice)
    app = connect(alice, accounts=[main])
    app.client.raise_request_exception = False

    def explode(**kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(views, "connection_account_open", explode)
    response = app.post("/api/v1/monetary-accounts/", {"type": "BANK", "description": "x"})

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "server_error"
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


def test_an_unknown_api_url_is_a_problem_404(alice, connect):
    app = connect(alice, accounts=[make_account(alice)])

    for path in ("/api/v1/nothing-here/", "/api/v1/monetary-accounts/-1/", "/api/v2/"):
        response = app.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
