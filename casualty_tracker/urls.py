from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from casualty_tracker import views
from incidents.urls import export_urlpatterns

# Without a language prefix: pages for staff (the admin follows the analyst's language, see
# casualty_tracker.i18n), files and answers for scripts (exports, health check, robots.txt; the
# API will join them), whose words and columns are data and must not change with a language.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the admin's language switch
    path("healthz/", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("api/", include("incidents.api.urls")),
    # Pages link the icon; browsers and feed readers that ask for /favicon.ico anyway find it too.
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include(export_urlpatterns)),
]

# Every public page in each language: English at the root, Arabic under /ar/.
urlpatterns += i18n_patterns(path("", include("incidents.urls")), prefix_default_language=False)

handler403 = "casualty_tracker.views.permission_denied"
handler404 = "casualty_tracker.views.page_not_found"
handler500 = "casualty_tracker.views.server_error"
