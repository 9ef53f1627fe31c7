from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "App connections"

    def ready(self) -> None:
        from . import schema, signals  # noqa: F401  (audit log signals; OpenAPI extension)
