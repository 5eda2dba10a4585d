from django.urls import path

from . import views

app_name = "brokers"

urlpatterns = [
    path("", views.broker_list, name="list"),
    path("new/", views.broker_edit, name="create"),
    path("queue/", views.queue, name="queue"),
    path("queue/csv/", views.month_csv, name="month_csv"),
    path("schemes/", views.schemes, name="schemes"),
    path("links/move/", views.link_move, name="link_move"),
    path("links/<int:pk>/close/", views.link_close, name="link_close"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("statements/<int:pk>/csv/", views.statement_csv, name="statement_csv"),
    path("statements/<int:pk>/<str:action>/", views.statement_action, name="statement_action"),
    path("<str:code>/", views.broker_detail, name="detail"),
    path("<str:code>/edit/", views.broker_edit, name="edit"),
    path("<str:code>/status/", views.broker_status, name="status"),
    path("<str:code>/links/", views.link_add, name="link_add"),
]
