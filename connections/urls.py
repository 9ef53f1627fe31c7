"""The connections app's URLs, as named lists (the toolkit's own style): `oauth_urlpatterns`, the
authorization server's endpoints at the toolkit's paths under /o/, in the toolkit's namespace; and
`page_urlpatterns`, the customer's connection pages and the developers' pages (with
`own_app_urlpatterns`, the pages about one app).

Only these OAuth endpoints are mounted: no self-service client registration, no device flow, no
dynamic registration.
"""

from django.urls import URLPattern, URLResolver, include, path

from .views import connections, developers, oauth

OAUTH_NAMESPACE = "oauth2_provider"  # the toolkit reverses its own views in this namespace

oauth_urlpatterns = [
    path("authorize/", oauth.BankAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth.BankTokenView.as_view(), name="token"),
    path("par/", oauth.PushedAuthorizationRequestView.as_view(), name="par"),
    path("revoke_token/", oauth.BankRevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth.BankIntrospectTokenView.as_view(), name="introspect"),
]

CONNECTIONS = "profile/settings/security/app-connections/"

# The pages about one of the developer's own apps, under developers/<pk>/ (developers.own_app_page).
own_app_urlpatterns = [
    path("", developers.developer_edit, name="developer-edit"),
    path("delete/", developers.developer_delete, name="developer-delete"),
    path("rotate-secret/", developers.developer_rotate_secret, name="developer-rotate-secret"),
    path("previous-secret/end/", developers.developer_previous_secret_end, name="developer-previous-secret-end"),
    path("signing-secret/", developers.developer_signing_secret, name="developer-signing-secret"),
    path("deliveries/", developers.developer_deliveries, name="developer-deliveries"),
    path(
        "deliveries/<uuid:delivery_id>/resend/", developers.developer_delivery_resend, name="developer-delivery-resend"
    ),
    path("calls/", developers.developer_calls, name="developer-calls"),
    path("scope-requests/", developers.developer_scope_request, name="developer-scope-request"),
]

page_urlpatterns: list[URLPattern | URLResolver] = [
    path(CONNECTIONS, connections.connections_list, name="connections"),
    path(f"{CONNECTIONS}history/", connections.connections_history, name="connections-history"),
    path(f"{CONNECTIONS}<int:pk>/", connections.connection_detail, name="connection-detail"),
    path(f"{CONNECTIONS}<int:pk>/revoke/", connections.connection_revoke_confirm, name="connection-revoke"),
    path(f"{CONNECTIONS}<int:pk>/revoked/", connections.connection_revoked, name="connection-revoked"),
    path("developers/", developers.developers, name="developers"),
    path("developers/new/", developers.developer_new, name="developer-new"),
    path("developers/test-customers/", developers.developer_test_customer_new, name="developer-test-customer-new"),
    path("developers/problems/", developers.problem_types, name="problem-types"),
    path("developers/problems/<slug:code>/", developers.problem_type, name="problem-type"),
    path("developers/guides/<slug:slug>/", developers.developer_guide, name="developer-guide"),
    path("developers/<int:pk>/", include(own_app_urlpatterns)),
    path("apps/logos/<str:sha256>.png", developers.application_logo, name="application-logo"),
]
