"""Geodata: the generated demo city and importers for a real city's data."""
