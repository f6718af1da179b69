from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from .auth import ClientRevokeTokenView, ClientTokenView
from .cases import CaseViewSet
from .directory import ServiceKeptView, ServiceListView, ServiceView
from .handovers import HandOverViewSet
from .helpline import ContactsView, EscalationsView
from .holds import HoldViewSet
from .indicators import IndicatorsView
from .mine import AttachmentViewSet, NotificationViewSet
from .prevention import AlertViewSet, ConsultationViewSet, MeetingViewSet
from .queue import QueueView
from .referents import ReferentsView, ReferentView
from .referrals import ReferralViewSet
from .transfers import TransferViewSet

router = SimpleRouter()
router.register("referrals", ReferralViewSet, basename="referral")
router.register("cases", CaseViewSet, basename="case")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("holds", HoldViewSet, basename="hold")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("alerts", AlertViewSet, basename="alert")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("handovers", HandOverViewSet, basename="handover")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # OAuth2 client credentials for agency systems (casework/api/auth.py).
    path("v1/oauth/token/", ClientTokenView.as_view(), name="oauth-token"),
    path("v1/oauth/revoke/", ClientRevokeTokenView.as_view(), name="oauth-revoke"),
    path("v1/queue/", QueueView.as_view(), name="queue"),
    path("v1/services/", ServiceListView.as_view(), name="services"),
    path("v1/services/kept/", ServiceKeptView.as_view(), name="services-kept"),
    path("v1/services/<int:pk>/", ServiceView.as_view(), name="service"),
    path("v1/indicators/", IndicatorsView.as_view(), name="indicators"),
    path("v1/contacts/", ContactsView.as_view(), name="contacts"),
    path("v1/escalations/", EscalationsView.as_view(), name="escalations"),
    path("v1/referents/", ReferentsView.as_view(), name="referents"),
    path("v1/referents/<int:pk>/", ReferentView.as_view(), name="referent"),
    path("v1/", include(router.urls)),
]
