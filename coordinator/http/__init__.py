"""FastAPI plumbing shared by every router: typed dependencies, auth guard, live stream."""
