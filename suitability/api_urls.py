from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("suitability/assessments", api.AssessmentViewSet, basename="suitability-assessment")
router.register("suitability/cases", api.CaseViewSet, basename="suitability-case")
router.register("suitability/conversions", api.ConversionViewSet, basename="suitability-conversion")
router.register("products", api.ProductViewSet, basename="product")

urlpatterns = [
    path("suitability/check/", api.CheckView.as_view(), name="suitability-check"),
    *router.urls,
]
