from django.urls import path

from . import views

app_name = "segmentation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("runs/", views.runs, name="runs"),
]
