"""Corrections to Django's date formats (FORMAT_MODULE_PATH): a day and month read "5 декабря", "5. prosince",
"5 Δεκεμβρίου" (the month in the genitive, Django's `E`), not the nominative Django's own formats give. Anything
not set here is Django's."""
