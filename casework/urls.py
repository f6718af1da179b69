from django.urls import path

from .web import (
    attachments,
    audit,
    cases,
    dpo,
    family,
    home,
    mailing,
    network,
    queue,
    referrals,
    retention,
)

urlpatterns = [
    path("", home.home, name="index"),
    path("notifications/", home.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", home.notification_open, name="notification_open"),
    # --- referrals: the school's side ---
    path("referrals/new/", referrals.referral_new, name="referral_new"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/edit/", referrals.referral_edit, name="referral_edit"),
    path("referrals/<int:pk>/confirm/", referrals.referral_confirm, name="referral_confirm"),
    path("referrals/<int:pk>/sent/", referrals.referral_sent, name="referral_sent"),
    path("referrals/<int:pk>/delete/", referrals.referral_delete, name="referral_delete"),
    path("referrals/<int:pk>/validate/", referrals.referral_validate, name="referral_validate"),
    path("referrals/<int:pk>/answer/", referrals.referral_answer, name="referral_answer"),
    path("referrals/<int:pk>/history/", referrals.referral_history, name="referral_history"),
    path(
        "referrals/<int:pk>/history/unlock/",
        referrals.referral_history_unlock,
        name="referral_history_unlock",
    ),
    path(
        "referrals/<int:pk>/attachments/",
        attachments.referral_attachment_upload,
        name="referral_attachment_upload",
    ),
    # --- the triage team ---
    path("queue/", queue.queue, name="queue"),
    path("referrals/<int:pk>/claim/", queue.referral_claim, name="referral_claim"),
    path("referrals/<int:pk>/release/", queue.referral_release, name="referral_release"),
    path("referrals/<int:pk>/decide/", queue.referral_decide, name="referral_decide"),
    path("referrals/<int:pk>/child/link/", queue.referral_child_link, name="referral_child_link"),
    path("referrals/<int:pk>/child/new/", queue.referral_child_new, name="referral_child_new"),
    # --- cases ---
    path("cases/", cases.case_list, name="case_list"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/plan/", cases.case_plan, name="case_plan"),
    path("cases/<int:pk>/action/", cases.case_action_add, name="case_action_add"),
    path("cases/<int:pk>/actions/<int:action_pk>/", cases.action_change, name="action_change"),
    path("cases/<int:pk>/member/", cases.case_member_add, name="case_member_add"),
    path("cases/<int:pk>/team/<int:member_pk>/remove/", cases.member_remove, name="member_remove"),
    path("cases/<int:pk>/review/", cases.case_review, name="case_review"),
    path(
        "cases/<int:pk>/review/extraordinary/",
        cases.case_extraordinary_review,
        name="case_extraordinary_review",
    ),
    path("cases/<int:pk>/review/forward/", cases.case_review_forward, name="case_review_forward"),
    path("cases/<int:pk>/close/", cases.case_close, name="case_close"),
    path("cases/<int:pk>/history/", cases.case_history, name="case_history"),
    path("cases/<int:pk>/history/unlock/", cases.case_history_unlock, name="case_history_unlock"),
    path("cases/<int:pk>/access/", cases.case_access, name="case_access"),
    path(
        "cases/<int:pk>/attachments/",
        attachments.case_attachment_upload,
        name="case_attachment_upload",
    ),
    # --- the family: information, consent, objections ---
    path("cases/<int:pk>/family/informed/", family.family_informed, name="family_informed"),
    path("cases/<int:pk>/family/consent/", family.consent_add, name="consent_add"),
    path(
        "cases/<int:pk>/family/consent/<int:consent_pk>/withdraw/",
        family.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<int:pk>/family/objection/", family.objection_add, name="objection_add"),
    path(
        "cases/<int:pk>/family/objection/<int:objection_pk>/handle/",
        family.objection_handle,
        name="objection_handle",
    ),
    path("attachments/<int:pk>/", attachments.attachment_download, name="attachment_download"),
    # --- the auditor ---
    path("audit/", audit.audit_search, name="audit_search"),
    # --- the data protection officer ---
    path("dpo/", dpo.register, name="dpo_register"),
    path("dpo/break-glass/", dpo.break_glass, name="dpo_break_glass"),
    path("dpo/access-patterns/", dpo.access_patterns, name="dpo_access_patterns"),
    path("dpo/subject-access/", dpo.subject_access, name="dpo_subject_access"),
    path(
        "dpo/subject-access/<int:pk>/", dpo.subject_access_detail, name="dpo_subject_access_detail"
    ),
    path(
        "dpo/subject-access/<int:pk>/export.<str:fmt>",
        dpo.subject_access_export,
        name="dpo_subject_access_export",
    ),
    path("dpo/rectifications/", dpo.rectifications, name="dpo_rectifications"),
    path(
        "dpo/rectifications/<int:pk>/decide/",
        dpo.rectification_decide,
        name="dpo_rectification_decide",
    ),
    # --- retention: legal holds ---
    path("holds/", retention.holds, name="holds"),
    path("holds/<int:pk>/lift/", retention.hold_lift, name="hold_lift"),
    # --- the network ---
    path("services/", network.directory, name="directory"),
    path("services/kept/", network.directory_kept, name="directory_kept"),
    path("services/new/", network.directory_entry_edit, name="directory_entry_new"),
    path("services/<int:pk>/edit/", network.directory_entry_edit, name="directory_entry_edit"),
    path("referents/", network.referents, name="referents"),
    path("referents/new/", network.referent_edit, name="referent_new"),
    path("referents/<int:pk>/edit/", network.referent_edit, name="referent_edit"),
    path("helpline/", network.contacts, name="contacts"),
    path("indicators/", network.indicators, name="indicators"),
    path("indicators/export.<str:fmt>", network.indicators_export, name="indicators_export"),
    path("mailings/", mailing.mailing_list, name="mailing_list"),
    path("mailings/new/", mailing.mailing_new, name="mailing_new"),
    path("mailings/<int:pk>/", mailing.mailing_detail, name="mailing_detail"),
    path("mailings/<int:pk>/send/", mailing.mailing_send, name="mailing_send"),
    path("subscribers/<int:pk>/export/", mailing.subscriber_export, name="subscriber_export"),
    path("subscribers/<int:pk>/erase/", mailing.subscriber_erase, name="subscriber_erase"),
]
