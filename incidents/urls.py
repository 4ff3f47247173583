from django.urls import path

from incidents import opendata, views
from incidents.exports.incidents import export_incidents
from incidents.exports.reports import export_reports
from incidents.exports.summary import export_summary
from incidents.exports.victims import export_victims
from incidents.feeds import NewlyPublishedIncidents

# Public pages: casualty_tracker/urls.py serves them in every language (English at the root,
# Arabic under /ar/).
urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("map/", views.incident_map, name="incident_map"),
    path("incidents/feed/", NewlyPublishedIncidents(), name="incident_feed"),
    path("incidents/<slug:slug>/", views.incident_detail, name="incident_detail"),
    path("incidents/<slug:slug>/versions/<str:stamp>/", views.incident_version, name="incident_version"),
    path("locations/<slug:slug>/", views.location_detail, name="location_detail"),
    path("sources/<slug:slug>/", views.source_detail, name="source_detail"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor_detail"),
    path("methodology/", views.methodology, name="methodology"),
    path("data/", opendata.open_data, name="open_data"),
]

# Files for editors and scripts: one address each, whatever the language (their words are data).
export_urlpatterns = [
    path("export/incidents.csv", export_incidents, name="export_incidents"),
    path("export/reports.csv", export_reports, name="export_reports"),
    path("export/summary.csv", export_summary, name="export_summary"),
    path("export/victims.csv", export_victims, name="export_victims"),
    # Open data: the files are data (one address each); the page that explains them is public.
    path("data/incidents.csv", opendata.incidents_csv, name="open_data_incidents"),
    path("data/reports.csv", opendata.reports_csv, name="open_data_reports"),
    path("data/victims.csv", opendata.victims_csv, name="open_data_victims"),
    path("data/datapackage.json", opendata.datapackage, name="open_data_package"),
]
