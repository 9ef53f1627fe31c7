from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "App connections"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (the token-issued audit receiver)
