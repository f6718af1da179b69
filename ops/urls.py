from django.urls import path

from . import metrics, views

app_name = "ops"

# Also answered by ops.middleware.probes before the host check and the HTTPS redirect.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
]
