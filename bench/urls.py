"""The bank's URLs plus the benchmark floors (config/settings/bench.py only)."""

from django.urls import include, path

from . import floors

urlpatterns = [
    path("bench/floor/json", floors.plain_json),
    path("bench/floor/payments/<int:account_pk>/", floors.PlainPaymentList.as_view()),
    path("bench/floor/transfer/<int:source>/<int:target>/", floors.bare_transfer),
    path("", include("config.urls")),
]
