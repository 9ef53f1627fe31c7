"""OpenAPI: the API's authentication is the toolkit's, with per-operation scopes."""

from typing import Any

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme


class ConnectionAuthenticationScheme(DjangoOAuthToolkitScheme):
    target_class = "connections.authentication.ConnectionAuthentication"

    def get_security_requirement(self, auto_schema: Any) -> Any:
        # A view without a scope permission (GET /api/v1/me/) still needs a token: any scope will do.
        return super().get_security_requirement(auto_schema) or {self.name: []}
