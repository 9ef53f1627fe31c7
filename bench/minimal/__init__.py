"""The floor for the API's reads: a minimal Django + DRF (+ django-oauth-toolkit) app of its own,
outside the bank's middleware and settings, over the bank's own tables (bench/minimal/settings.py)."""
