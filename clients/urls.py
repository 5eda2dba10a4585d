"""Pages of the clients app (namespace "clients")."""

from django.urls import path

from . import views

app_name = "clients"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", views.client_list, name="list"),
    path("clients/export.csv", views.client_export, name="export"),
    path("clients/<int:pk>/", views.client_detail, name="detail"),
    path("clients/<int:pk>/interactions/", views.interaction_add, name="interaction_add"),
    path("clients/<int:pk>/contact/", views.client_contact, name="contact"),
    path("clients/<int:pk>/reassign/", views.client_reassign, name="reassign"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("prospects/", views.prospects, name="prospects"),
    path("prospects/new/", views.prospect_create, name="prospect_create"),
    path("prospects/<int:pk>/move/", views.prospect_move, name="prospect_move"),
    path("prospects/<int:pk>/convert/", views.prospect_convert, name="prospect_convert"),
]
