from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def reason_label(code):
    from casework.audit import reason_label as label

    return label(code)
