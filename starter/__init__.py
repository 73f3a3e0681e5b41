"""The HTTP API (FastAPI) for the platform's backend, and the operator CLI."""
