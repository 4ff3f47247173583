from django.contrib import admin
from django.urls import include, path

from casualty_tracker import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("api/", include("incidents.api.urls")),
    # Pages link the icon; browsers and feed readers that ask for /favicon.ico anyway find it too.
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("incidents.urls")),
]

handler403 = "casualty_tracker.views.permission_denied"
handler404 = "casualty_tracker.views.page_not_found"
handler500 = "casualty_tracker.views.server_error"
