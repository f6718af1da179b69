from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Application, Site

from casework import views

site = Site(
    title=_("Casework"),
    viewsets=[
        Application(
            app_name="casework",
            title=_("Referrals and cases"),
            icon="folder_shared",
            menu_template_name=None,
            urlpatterns=[path("", views.home, name="index")],
        ),
    ],
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", AuthViewset().urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", site.urls),
]
