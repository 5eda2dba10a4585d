"""Encrypted personal fields (ID numbers) and the keyed hash that makes them searchable.

The value is stored as Fernet ciphertext; an HMAC-SHA256 of the normalised value,
keyed by the same secret, is stored beside it so an exact ID number can be found
without decrypting the table.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(("fernet:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def normalise_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_number_hash(value: str) -> str:
    """Keyed hash for exact-match search; empty input → empty string."""
    value = normalise_id_number(value)
    if not value:
        return ""
    key = ("hash:" + settings.FIELD_ENCRYPTION_KEY).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110***********1234 (first 3 and last 4 shown)."""
    value = normalise_id_number(value)
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张**; Acme Ltd → A*******."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


class EncryptedTextField(models.TextField):
    """A TextField whose database value is ciphertext. Not filterable by value."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
