"""Drive-time routing on the road network in ``road_edges``, one module per concern.

``graph`` the pure engine (numpy/scipy: arcs, snapped points, searches, strongly
connected components); ``store`` the SQL (app/routing/sql/routing.sql); ``cache`` the
per-process snapshot of the graph and per-agency station tables, kept fresh;
``geometry`` route drawing and the metric projection; ``nearest`` the service
(nearest responders, point-to-point routes, the checked entry point).  Coverage and
analytics use the public functions of these modules.  See docs/routing.md.
"""
