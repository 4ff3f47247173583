"""Settings for Casualty Tracker, read only from environment variables.

See README.md ("Configuration") and .env.example for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from casualty_tracker.env import (
    OSM_ATTRIBUTION,
    OSM_TILES_URL,
    cache_from_url,
    env_bool,
    env_int,
    env_list,
    env_rate,
    env_tiles_url,
    tile_origins,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string in production, "
            "or set DJANGO_DEBUG=1 for local development (make run does this for you)."
        )
    SECRET_KEY = "insecure-development-only-key-never-use-in-production"  # noqa: S105 (debug only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "incidents",
]

MIDDLEWARE = [
    "casualty_tracker.middleware.RequestIdMiddleware",
    # Second: a reader's page found in the cache is sent without the rest of the chain (the
    # stored response carries the headers the chain added when it was rendered).
    "casualty_tracker.public_cache.PublicCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a public page is in its address (English at the root, Arabic under /ar/).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The admin and other unprefixed staff pages: the analyst's own language (see casualty_tracker.i18n).
    "casualty_tracker.i18n.StaffLanguageMiddleware",
    # After authentication: only anonymous readers are sent to a replica.
    "casualty_tracker.replicas.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "casualty_tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casualty_tracker.i18n.languages",
            ],
        },
    },
]

WSGI_APPLICATION = "casualty_tracker.wsgi.application"

# SQLite in the project root unless DATABASE_URL says otherwise (PostgreSQL in production).
# An empty DATABASE_URL (as a blank line in a .env file gives) means the default too.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

# Optional read replicas (comma-separated URLs). Anonymous readers' GET requests read from one of
# them; staff, every write and everything else use the primary (casualty_tracker/replicas.py).
DATABASE_REPLICAS = []
for number, url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    alias = f"replica_{number}"
    DATABASES[alias] = dj_database_url.parse(
        url, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    # Tests never create a database for a replica: it reads the primary's test database.
    DATABASES[alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(alias)
DATABASE_ROUTERS = ["casualty_tracker.replicas.ReplicaRouter"]

# Per-process memory unless DJANGO_CACHE_URL names a Redis server shared by every app server.
CACHES = {"default": cache_from_url(os.environ.get("DJANGO_CACHE_URL"))}
# How long a shared proxy (not this app: it never serves a stale figure) may keep an anonymous
# page. 0 makes every proxy ask again each time.
PROXY_CACHE_SECONDS = env_int("DJANGO_PROXY_CACHE_SECONDS", 10)
# Pages each server process keeps in its own memory in front of the shared cache
# (casualty_tracker/public_cache.py), in megabytes of content; 0 keeps none.
PAGE_MEMORY_MB = env_int("DJANGO_PAGE_MEMORY_MB", 32)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English at the root of the site, Arabic under /ar/ (casualty_tracker/urls.py); README, "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own number formats for Arabic (casualty_tracker/formats/ar): Western digits, as the sources write them.
FORMAT_MODULE_PATH = ["casualty_tracker.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
# Dates entered and shown as YYYY-MM-DD, never 05/10/2023 (casualty_tracker/formats/).
FORMAT_MODULE_PATH = ["casualty_tracker.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# Security. Off in debug so that http://127.0.0.1:8000/ works for development;
# behind an HTTPS reverse proxy in production (see README.md, "Deploying").
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The admin's language choice (casualty_tracker.i18n): no script needs to read it.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only trust X-Forwarded-Proto and X-Forwarded-For when a reverse proxy that sets them sits in front.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a one-way commitment for a whole domain: the operator decides.
    "security.W021",
]

# Failed logins: after 5 failures for a user name from one address, that pair waits 15 minutes.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "casualty_tracker.middleware.client_ip"

# Staff sessions end after two idle hours.
SESSION_COOKIE_AGE = 2 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True

# Maps (README, "Map"): where the tiles come from, a URL template Leaflet fills in, and the credit
# they need (HTML, shown on every map). OpenStreetMap's standard tiles unless set.
MAP_TILES_URL = env_tiles_url("DJANGO_MAP_TILES_URL", OSM_TILES_URL)
MAP_TILES_ATTRIBUTION = os.environ.get("DJANGO_MAP_TILES_ATTRIBUTION", "").strip() or OSM_ATTRIBUTION

# No inline scripts, and no third-party origin but the map tiles' (images only, derived from
# MAP_TILES_URL so that the two never disagree). Inline styles stay allowed: the Django admin uses
# style attributes, and they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *tile_origins(MAP_TILES_URL)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Open data (/data/ and /api/). The licence of the published data: its SPDX identifier, title and URL.
OPEN_DATA_LICENCE = {
    "name": os.environ.get("DJANGO_DATA_LICENCE", "").strip() or "CC-BY-4.0",
    "title": os.environ.get("DJANGO_DATA_LICENCE_TITLE", "").strip()
    or "Creative Commons Attribution 4.0 International",
    "path": os.environ.get("DJANGO_DATA_LICENCE_URL", "").strip()
    or "https://creativecommons.org/licenses/by/4.0/",
}
# Who publishes the data, as citations name it.
OPEN_DATA_PUBLISHER = os.environ.get("DJANGO_DATA_PUBLISHER", "").strip() or "Casualty Tracker"

# The read-only public API: anonymous, JSON only, throttled per client address.
# Requests per address: a whole number, then second, minute, hour or day.
API_THROTTLE_RATE = env_rate("DJANGO_API_THROTTLE_RATE", "120/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_RATE},
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.views.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Casualty Tracker API",
    "DESCRIPTION": (
        "Read-only JSON over published incidents: every source's figure as stated and as an interval, "
        "the ranges per population, agreement and attributions. Anonymous, throttled; see README.md, "
        "“Open data and API”."
    ),
    "VERSION": "1",
    # 3.1: a field that may be null is written as JSON Schema says it (3.0 cannot say so beside a $ref).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Each vocabulary named once (DESIGN.md, "Stored choice values").
    "ENUM_NAME_OVERRIDES": {
        "IncidentKindEnum": "incidents.models.Incident.Kind",
        "LocationKindEnum": "incidents.models.Location.Kind",
        "SourceKindEnum": "incidents.models.Source.Kind",
        "ActorKindEnum": "incidents.models.Actor.Kind",
        "PopulationEnum": "incidents.models.TollReport.Population",
        "QualifierEnum": "incidents.models.TollReport.Qualifier",
    },
}

# One JSON object per line on stderr, with the request id (also sent as X-Request-ID).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "casualty_tracker.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "casualty_tracker.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
