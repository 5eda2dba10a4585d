from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

api_v1 = [
    path("", include("clients.api_urls")),
    path("", include("clients.importers.api_urls")),
    path("", include("suitability.api_urls")),
    path("", include("segmentation.api_urls")),
    path("", include("brokers.api_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("imports/", include("clients.import_urls")),
    path("suitability/", include("suitability.urls")),
    path("segments/", include("segmentation.urls")),
    path("brokers/", include("brokers.urls")),
    path("", include("clients.urls")),
]
