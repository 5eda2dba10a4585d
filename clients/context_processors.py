from . import roles as role_rules


def roles(request) -> dict:
    """Exposes the user's roles to templates: {% if ROLES.compliance %}."""
    user_roles = role_rules.user_roles(request.user)
    return {
        "user_roles": user_roles,
        "ROLES": {name: name in user_roles for name in role_rules.ALL_ROLES},
    }
