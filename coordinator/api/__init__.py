"""HTTP API routers (FastAPI); each domain has its own module."""
