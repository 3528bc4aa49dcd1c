"""Importers for real city data: ``peta112 import osm|areas|stations|incidents``.

Each source has a module of plain functions usable from a notebook
(``read_osm`` / ``load_network``, ``import_areas``, ``import_stations``,
``import_incidents``); ``app.cli.imports`` wraps them in click commands, one
transaction per import.  Bad input raises :class:`ImportProblem` with a one-line
message.
"""

from geodata.importers.problem import ImportProblem

__all__ = ["ImportProblem"]
