"""What every input of the API shares: a field the endpoint does not know is refused (400
naming it) rather than silently ignored, free text is kept exactly as sent, and control
characters are refused with a message (tab, line feed and carriage return only in free text).

Every input serializer derives from `Input`; its text fields are `Text` (several lines, kept as
sent) or `Line` (one line: a name, a title, a telephone number)."""

import re
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# NUL and the other C0 controls but tab, line feed and carriage return; DEL.
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# One line: no control character at all.
LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def _refuse(pattern: re.Pattern, message):
    def check(value: str) -> None:
        if isinstance(value, str) and pattern.search(value):
            raise serializers.ValidationError(message)

    return check


class Text(serializers.CharField):
    """Free text (observations, notes, answers): kept exactly as sent — leading and trailing
    spaces and indented lines included — with no control character but tab and line breaks."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(
            _refuse(
                TEXT_CONTROLS,
                _("Remove the control characters: only tabs and line breaks may be used."),
            )
        )


class Line(serializers.CharField):
    """One line (a name, a title): kept as sent, with no control character at all."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(
            _refuse(LINE_CONTROLS, _("Remove the control characters: this is a single line."))
        )


class Input(serializers.Serializer):
    """An input serializer that refuses the fields it does not declare (`status`, `referrer`
    and the like are set by the protocol, never by the caller), each named in the 400."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            # A text field whose default is the empty string takes it when sent, too: the
            # schema documents the default, and a client generated from it sends it back.
            if isinstance(field, serializers.CharField) and field.default == "":
                field.allow_blank = True
        return fields

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            message = _("This field cannot be set here.")
            unknown = {name: [message] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as refused:
            # One answer with every problem: the unknown names and the known fields' errors.
            if unknown and isinstance(refused.detail, dict):
                raise serializers.ValidationError({**refused.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value
