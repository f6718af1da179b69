from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("cases", views.CaseViewSet, basename="case")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("v1/queue/", views.QueueView.as_view(), name="queue"),
    path("v1/services/", views.ServiceListView.as_view(), name="services"),
    path("v1/", include(router.urls)),
]
