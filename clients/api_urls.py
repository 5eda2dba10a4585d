from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("clients", api.ClientViewSet, basename="client")
router.register("accounts", api.AccountViewSet, basename="account")
router.register("interactions", api.InteractionViewSet, basename="interaction")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("prospects", api.ProspectViewSet, basename="prospect")

urlpatterns = router.urls
