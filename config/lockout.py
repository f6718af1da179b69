"""The answer to a sign-in refused by the lock-out (django-axes): the login page again, with one
message that is the same whether the user name exists or not."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from viewflow.contrib.auth import AuthenticationForm


def locked_out(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed sign-ins for this user name: it is locked for %(minutes)s minutes. "
        "An administrator can unlock it sooner."
    ) % {"minutes": minutes}
    # An unbound form carrying only this message: validating the posted one would count
    # another failed attempt.
    form = AuthenticationForm(request)
    errors = form.error_class([message], error_class="nonfield")
    form._errors = ErrorDict({NON_FIELD_ERRORS: errors})
    admin = request.path.startswith("/admin/")
    template = "admin/login.html" if admin else "registration/login.html"
    context = {"form": form, "site_header": _("Casework administration")}
    return render(request, template, context, status=429)


def client_str(username, ip_address, user_agent, path_info, request=None):
    """How django-axes names a sign-in in the logs: by the page only. User names and addresses
    stay in its own tables (the admin's "Access attempts"), never in the log lines."""
    return f"{{path_info: {path_info!r}}}"
