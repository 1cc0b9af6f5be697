# Day and month with the month in the genitive ("5. prosince"); the rest is Django's.
MONTH_DAY_FORMAT = "j. E"
