from django import template

from ..heartbeat import beat_state

register = template.Library()


@register.inclusion_tag("ops/beat_status.html")
def beat_status():
    """The admin home's line about the background work: stale or missing, in a warning."""
    return {"beat": beat_state()}
