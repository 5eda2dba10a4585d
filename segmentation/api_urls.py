from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
# runs first: "segments/runs/" must not be read as a segment id.
router.register("segments/runs", api.SegmentRunViewSet, basename="segment-run")
router.register("segments", api.SegmentViewSet, basename="segment")

urlpatterns = router.urls
