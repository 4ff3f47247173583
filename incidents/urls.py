from django.urls import path

from incidents import exports, views
from incidents.feeds import NewlyPublishedIncidents

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/feed/", NewlyPublishedIncidents(), name="incident_feed"),
    path("incidents/<slug:slug>/", views.incident_detail, name="incident_detail"),
    path("locations/<slug:slug>/", views.location_detail, name="location_detail"),
    path("sources/<slug:slug>/", views.source_detail, name="source_detail"),
    path("export/incidents.csv", exports.export_incidents, name="export_incidents"),
    path("export/reports.csv", exports.export_reports, name="export_reports"),
    path("export/summary.csv", exports.export_summary, name="export_summary"),
    path("methodology/", views.methodology, name="methodology"),
    path("healthz/", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
