"""Live updates: one LISTEN per server process, fanned out to every open map.

``hub`` listens and scopes each change to the readers who may see it; ``asgi`` serves the
stream natively (no worker thread or database connection per open map) in front of the
Flask app; ``app.web.stream`` authorises a stream like any other request.
"""
