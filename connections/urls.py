"""The OAuth endpoints, at the toolkit's paths. Only these are mounted: no self-service client
registration, no device flow, no dynamic registration."""

from django.urls import path
from oauth2_provider import views as toolkit

from . import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.BankAuthorizationView.as_view(), name="authorize"),
    path("token/", views.BankTokenView.as_view(), name="token"),
    path("revoke_token/", toolkit.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", toolkit.IntrospectTokenView.as_view(), name="introspect"),
]
