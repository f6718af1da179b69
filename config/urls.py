from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, Site

from casework import urls as casework_urls
from casework.web import public
from config.accounts import AccountsViewset
from protocols.flows import CaseFlow, ReferralFlow
from protocols.views import ProtocolFlowViewset

site = Site(
    title=_("Casework"),
    viewsets=[
        Application(
            app_name="casework",
            title=_("Referrals and cases"),
            icon="folder_shared",
            urlpatterns=casework_urls.urlpatterns,
            menu_template_name="casework/menu.html",
            turbo_disabled=True,
        ),
        ProtocolFlowViewset(ReferralFlow, icon="assignment"),
        ProtocolFlowViewset(CaseFlow, icon="folder_open"),
    ],
)

# API clients get JSON for a 500 that happened outside a DRF view too (casework/api/errors.py).
handler400 = "casework.api.errors.bad_request"
handler500 = "casework.api.errors.server_error"

urlpatterns = [
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("config.accounts")),
    path("accounts/", AccountsViewset().urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("casework.api.urls")),
    # The public directory (no sign-in, no personal data).
    path("directory/", public.directory, name="public_directory"),
    path("directory/hsds.json", public.directory_hsds, name="public_directory_hsds"),
    path("mailing-list/", include("casework.public_urls")),
    path("", site.urls),
]
