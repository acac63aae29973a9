"""The camera-board agent: frames → motion gate → detector → tracker → rules → events."""

__version__ = "0.1.0"
