"""The form renderer: Django's, with the `<select>` written in Python.

A select renders its template, then one included template per option and one more for each
option's attributes: a team member's select of a hundred people was a third of the case
page's rendering time. `Renderer` writes exactly what Django's `select.html`,
`select_option.html` and `attrs.html` write (the same text, the same escaping: asserted by
tests/config/test_form_renderer.py) and leaves every other template to Django. A project
template that overrides one of the three, or a widget with templates of its own, is rendered
by Django as before.
"""

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
ATTRS = "django/forms/widgets/attrs.html"


def _stringformat(value):
    """The `stringformat:'s'` filter (is_safe: a safe string stays safe)."""
    text = "%s" % value  # noqa: UP031 - what the filter does
    return mark_safe(text) if isinstance(value, SafeData) else text  # noqa: S308 - was safe


class Renderer(DjangoTemplates):
    def __init__(self):
        super().__init__()
        self._own = None  # whether the three templates are Django's own (checked once)

    def render(self, template_name, context, request=None):
        if template_name == SELECT and self._django_templates():
            widget = context["widget"]
            if all(
                option["template_name"] == OPTION
                for _group, options, _index in widget["optgroups"]
                for option in options
            ):
                return mark_safe(self._select(widget))  # noqa: S308 - every value escaped
        return super().render(template_name, context, request)

    def _django_templates(self) -> bool:
        if self._own is None:
            self._own = all(
                "/django/forms/templates/" in self.get_template(name).origin.name
                for name in (SELECT, OPTION, ATTRS)
            )
        return self._own

    @staticmethod
    def _value(value, context) -> str:
        """`{{ value }}`: localised, then escaped, as a template prints it."""
        return render_value_in_context(value, context)

    def _attrs(self, attrs, context) -> str:
        return "".join(
            f" {self._value(name, context)}"
            + ("" if value is True else f'="{self._value(_stringformat(value), context)}"')
            for name, value in attrs.items()
            if value is not False
        )

    def _select(self, widget) -> str:
        # select.html and select_option.html, line breaks included (an option's file ends
        # with one; the select's final one goes, as Django's renderer strips its output).
        context = Context(autoescape=True)
        out = [f'<select name="{self._value(widget["name"], context)}"']
        out.append(self._attrs(widget["attrs"], context) + ">")
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{self._value(group_name, context)}">')
            for option in options:
                value = self._value(_stringformat(option["value"]), context)
                out.append(
                    f'\n  <option value="{value}"{self._attrs(option["attrs"], context)}>'
                    f"{self._value(option['label'], context)}</option>\n"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return "".join(out)
