from django.urls import path

from clients.importers import views

# Pages live in clients/importers/views.py; this module only names them.

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
]
