from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrokersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "brokers"
    verbose_name = _("Introducing brokers")
