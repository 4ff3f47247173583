"""Dates in one format that cannot be misread, entered and shown: 2023-10-05 (ISO 8601).

Django's British formats would show 05/10/2023 in the admin and take it back, which much of
the world reads as 10 May. Public pages spell the month out ("5 October 2023") where they
write a date for readers; a date to be typed or compared is always YYYY-MM-DD.
"""

DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
