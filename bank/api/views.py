"""API views."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bank.selectors import display_name
from connections.authentication import request_connection


class MeView(APIView):
    """Who the token belongs to, and what the connection allows. Any valid token."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "display_name": serializers.CharField(),
                "scopes": serializers.ListField(child=serializers.CharField()),
                "account_ids": serializers.ListField(child=serializers.IntegerField()),
                "expires_at": serializers.DateTimeField(),
            },
        )
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = request_connection(request)
        return Response(
            {
                "id": request.user.pk,
                "display_name": display_name(request.user),
                "scopes": connection.scope_list,
                "account_ids": sorted(connection.accounts.values_list("pk", flat=True)),
                "expires_at": connection.expires_at,
            }
        )
