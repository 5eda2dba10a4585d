from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from importlib import import_module

        # Each app registers its import kinds (and after-import hooks) here.
        for app in ("clients", "brokers", "suitability", "segmentation"):
            try:
                import_module(f"{app}.importers.kinds" if app == "clients" else f"{app}.importers")
            except ModuleNotFoundError as exc:
                if exc.name not in {f"{app}.importers", f"{app}.importers.kinds"}:
                    raise
