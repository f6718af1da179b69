from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="index"),
    path(
        "cases/<int:pk>/attachments/",
        views.attachment_upload,
        {"kind": "case"},
        name="case_attachment_upload",
    ),
    path(
        "referrals/<int:pk>/attachments/",
        views.attachment_upload,
        {"kind": "referral"},
        name="referral_attachment_upload",
    ),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/edit/", views.referral_edit, name="referral_edit"),
    path("referrals/<int:pk>/decide/", views.referral_decide, name="referral_decide"),
    path("referrals/<int:pk>/answer/", views.referral_answer, name="referral_answer"),
    path("referrals/<int:pk>/history/", views.referral_history, name="referral_history"),
    path(
        "referrals/<int:pk>/<str:verb>/",
        views.referral_transition,
        name="referral_transition",
    ),
    path("queue/", views.queue, name="queue"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/history/", views.case_history, name="case_history"),
    path("cases/<int:pk>/access/", views.case_access, name="case_access"),
    path("cases/<int:pk>/actions/<int:action_pk>/", views.action_change, name="action_change"),
    path("cases/<int:pk>/team/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
    path("cases/<int:pk>/<str:what>/", views.case_change, name="case_change"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("services/", views.directory, name="directory"),
    path("helpline/", views.contacts, name="contacts"),
    path("indicators/", views.indicators, name="indicators"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
]
