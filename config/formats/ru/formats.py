# Day and month with the month in the genitive ("5 декабря"); the rest is Django's.
MONTH_DAY_FORMAT = "j E"
