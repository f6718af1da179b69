"""The mailing list's public pages: no sign-in (each view is marked login_not_required)."""

from django.urls import path

from .web import mailing

app_name = "mailing_list"

urlpatterns = [
    path("", mailing.subscribe, name="subscribe"),
    path("confirm/<str:token>/", mailing.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", mailing.unsubscribe, name="unsubscribe"),
]
