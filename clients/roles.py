"""The roles of the spec, as Django groups. Visibility is decided in selectors.py."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ACCOUNT_MANAGER = "account_manager"
BRANCH_MANAGER = "branch_manager"
COMPLIANCE = "compliance"
FINANCE = "finance"
INTRODUCING_BROKER = "introducing_broker"
ADMIN = "admin"

ALL_ROLES = (ACCOUNT_MANAGER, BRANCH_MANAGER, COMPLIANCE, FINANCE, INTRODUCING_BROKER, ADMIN)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_brokercrm_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached = cached | {ADMIN}
        user._brokercrm_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_admin(user) -> bool:
    return has_role(user, ADMIN)
