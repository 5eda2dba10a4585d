from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuitabilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "suitability"
    verbose_name = _("Suitability")
