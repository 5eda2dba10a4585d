"""Template helpers of the client pages."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, template_name: str, panel_context: dict):
    """Render an app's panel with its own context (plus request, user, ROLES, …)."""
    return render_to_string(template_name, dict(panel_context or {}), request=context.get("request"))


@register.simple_tag
def sort_link(current: str, key: str) -> str:
    """The sort value a column header links to: ascending first, then descending."""
    return f"-{key}" if current == key else key


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@register.filter
def staff_name(user) -> str:
    """A staff member's name as colleagues write it: 张伟 (family name first, no space)
    for a Chinese name, "Wei Zhang" otherwise; the username when no name is set."""
    if user is None:
        return ""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not (first or last):
        return user.get_username()
    if _is_cjk(first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)
