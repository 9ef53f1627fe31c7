"""Dates and times as the bank shows them by default (the admin above all): to the second, with the
time zone, so that staff comparing events never guess. Django falls back to these for every English
locale, the site's en-gb included."""

DATETIME_FORMAT = "j M Y, H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
