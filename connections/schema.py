"""OpenAPI: the API's authentication is the toolkit's, with per-operation scopes."""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme


class ConnectionAuthenticationScheme(DjangoOAuthToolkitScheme):
    target_class = "connections.authentication.ConnectionAuthentication"
