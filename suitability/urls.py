from django.urls import path

from . import views

app_name = "suitability"

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/<int:client_id>/questionnaire/", views.questionnaire, name="questionnaire"),
    path("clients/<int:client_id>/conversion/", views.conversion_new, name="conversion_new"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("check/", views.check, name="check"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("return-visits/<int:task_id>/", views.return_visit, name="return_visit"),
    path("conversions/", views.conversion_list, name="conversions"),
    path("conversions/<int:pk>/", views.conversion_detail, name="conversion"),
    path("products/", views.products, name="products"),
    path("questionnaires/", views.questionnaires, name="questionnaires"),
    path("reports/", views.reports, name="reports"),
]
