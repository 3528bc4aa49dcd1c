"""Dispatch rules as plain Python: no Flask, no SQL, unit-testable in isolation."""
