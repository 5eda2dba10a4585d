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
