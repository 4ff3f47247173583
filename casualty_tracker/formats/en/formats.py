# British English: the formats of LANGUAGE_CODE "en-gb", which the site used before it had languages.
from django.conf.locale.en_GB.formats import *  # noqa: F403
