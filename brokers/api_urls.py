from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("brokers", api.BrokerViewSet, basename="broker")
router.register("statements", api.StatementViewSet, basename="statement")

urlpatterns = router.urls
