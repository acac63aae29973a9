"""The command-centre coordinator: ingest, incidents, dispatch, records, audit, API and UI."""

__version__ = "0.1.0"
