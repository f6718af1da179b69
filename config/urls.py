from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Application, Site
from viewflow.workflow.flow import FlowAppViewset

from casework import views
from protocols.flows import CaseFlow, ReferralFlow

site = Site(
    title=_("Casework"),
    viewsets=[
        Application(
            app_name="casework",
            title=_("Referrals and cases"),
            icon="folder_shared",
            menu_template_name=None,
            urlpatterns=[
                path("", views.home, name="index"),
                path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
                path("cases/<int:pk>/", views.case_detail, name="case_detail"),
            ],
        ),
        FlowAppViewset(ReferralFlow, icon="assignment"),
        FlowAppViewset(CaseFlow, icon="folder_open"),
    ],
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", AuthViewset().urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("casework.api.urls")),
    path("", site.urls),
]
