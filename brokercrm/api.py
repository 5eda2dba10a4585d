"""One error shape for the whole API: {"detail": …, "errors": {field: [messages]}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"detail": data["detail"], "errors": {}}
    elif isinstance(data, dict):
        response.data = {"detail": _("Invalid input."), "errors": data}
    elif isinstance(data, list):
        response.data = {"detail": _("Invalid input."), "errors": {"non_field_errors": data}}
    return response


def call_service(fn, **kwargs):
    """Run a service; its field errors become a 400 with the API's one error shape."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise serializers.ValidationError(detail) from None
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None
