from django.apps import AppConfig


class BankConfig(AppConfig):
    name = "bank"
    verbose_name = "Bank"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the audit receivers)
        from .api.callbacks import representations_register

        representations_register()  # how objects look in callbacks: as in the API
