"""The city this installation serves: set up from its own files, checked, described.

``peta112 city setup`` (app/cli/city.py) replaces the previous city in one
transaction (app/city/setup.py), picks the metric CRS and the time zone from the
data (app/city/profile.py) and prints a readiness report (app/city/readiness.py):
what a GIS officer needs to know before the first real call is taken on it.
``peta112 city catalog check|apply FILE`` makes the agencies, categories, routing
rules and response plans what the city's catalog file says (app/city/catalog.py).
"""
