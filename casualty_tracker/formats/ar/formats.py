# Arabic dates as Django writes them ("5 أكتوبر، 2023"), but numbers with Western digits (0-9) and the
# separators the Arabic sources we quote use (SOHR, the Syrian and Gaza ministries of health: "1,200"),
# rather than Django's "1.200", which a reader of an English source would read as 1.2. A figure then
# reads the same in both languages, in a quote, a CSV file and the API.
from django.conf.locale.ar.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
