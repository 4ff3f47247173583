from django.urls import path

from incidents import views

urlpatterns = [
    path("", views.home, name="home"),
    path("methodology/", views.methodology, name="methodology"),
    path("healthz/", views.healthz, name="healthz"),
]
