"""The form renderer writes a <select> in Python: exactly what Django's templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from config.form_renderer import Renderer

CHOICES = [
    ("", "---------"),
    (1, "Plain"),
    ("a&b", "Quotes \" and ' and <tags> & ampersands"),
    ("safe", mark_safe("<b>already safe</b>")),
    (
        "Group <one>",
        [(10, "Ten"), (11, gettext_lazy("School"))],
    ),
    ("lazy", gettext_lazy("Urgency")),
]


@pytest.mark.parametrize(
    "widget, value",
    [
        (forms.Select(choices=CHOICES), None),
        (forms.Select(choices=CHOICES), 11),
        (forms.Select(choices=CHOICES, attrs={"id": "x", "required": True, "disabled": False}), 1),
        (forms.Select(choices=CHOICES, attrs={"data-x": 'a"b<c>', "class": "cw"}), "a&b"),
        (forms.SelectMultiple(choices=CHOICES), ["safe", 10]),
        (forms.NullBooleanSelect(), True),
        (forms.Select(choices=[]), None),
    ],
)
@pytest.mark.parametrize("language", ["en", "it"])
def test_select_is_written_as_django_writes_it(widget, value, language):
    with override(language):
        ours = widget.render("field<name>", value, renderer=Renderer())
        django = widget.render("field<name>", value, renderer=DjangoTemplates())
    assert ours == django
    assert "<select" in ours


def test_other_widgets_are_left_to_django():
    widget = forms.RadioSelect(choices=CHOICES[:3])
    ours = widget.render("r", 1, renderer=Renderer())
    assert ours == widget.render("r", 1, renderer=DjangoTemplates())


def test_the_project_uses_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), Renderer)
