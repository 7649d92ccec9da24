"""Myco: a controller for living-art installations."""

__version__ = "0.1.0"
