"""Which language a request is answered in, and the links between a page's languages.

Public pages carry their language in the address: English at the root, Arabic under ``/ar/``
(``i18n_patterns`` in casualty_tracker/urls.py; Django's ``LocaleMiddleware`` reads it). One
address is one language, whatever the browser or a cookie says, so that a link, a search engine
and a cache all see the same page.

The admin and the other staff pages have no prefix: there the analyst's own language applies
(``StaffLanguageMiddleware``): the language they chose with the switch in the admin (Django's
``set_language`` view, which stores it in the ``django_language`` cookie), else the one their
browser asks for (Accept-Language), else English. Django ships the admin's Arabic translation.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.functional import SimpleLazyObject


class StaffLanguageMiddleware:
    """The admin in the analyst's language: cookie, then Accept-Language, then English.

    After LocaleMiddleware, which gives every address without a language prefix the default
    language; this overrides that for the admin only. Exports, the health check and the API stay
    English: their words (``at least 89``, column names) are data that scripts read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(reverse("admin:index")):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str  # in its own language: "العربية"
    url: str  # this page (and its filters) in that language
    absolute_url: str
    is_current: bool
    is_rtl: bool


def page_in_every_language(request):
    """This page in each language, current one included; [] when the page has only one language
    (the admin, a 404): translate_url leaves an address it cannot translate as it was."""
    path = request.get_full_path()
    current = translation.get_language()
    urls = {code: translate_url(path, code) for code, _ in settings.LANGUAGES}
    if len(set(urls.values())) < len(urls):
        return []
    return [
        LanguageLink(
            code=code,
            name=name,
            url=urls[code],
            absolute_url=request.build_absolute_uri(urls[code]),
            is_current=code == current,
            is_rtl=translation.get_language_info(code)["bidi"],
        )
        for code, name in settings.LANGUAGES
    ]


def languages(request):
    """``language_links`` for base.html: the hreflang alternates and the language switch.
    Worked out only on the pages that show them."""
    return {"language_links": SimpleLazyObject(lambda: page_in_every_language(request))}
