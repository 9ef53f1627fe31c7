"""The customer's connection pages and the developers' pages."""

from django.urls import path

from . import pages

CONNECTIONS = "profile/settings/security/app-connections/"

urlpatterns = [
    path(CONNECTIONS, pages.connections_list, name="connections"),
    path(f"{CONNECTIONS}history/", pages.connections_history, name="connections-history"),
    path(f"{CONNECTIONS}<int:pk>/", pages.connection_detail, name="connection-detail"),
    path(f"{CONNECTIONS}<int:pk>/revoke/", pages.connection_revoke_confirm, name="connection-revoke"),
    path(f"{CONNECTIONS}<int:pk>/revoked/", pages.connection_revoked, name="connection-revoked"),
    path("developers/", pages.developers, name="developers"),
    path("developers/new/", pages.developer_new, name="developer-new"),
    path("developers/<int:pk>/", pages.developer_edit, name="developer-edit"),
    path("developers/<int:pk>/rotate-secret/", pages.developer_rotate_secret, name="developer-rotate-secret"),
]
