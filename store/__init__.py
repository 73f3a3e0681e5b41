"""Persistence (SQLAlchemy 2 Core): tenants, integrations, sync runs and state, records, audit.

Knows nothing of vendors: it stores unified records and opaque cursors handed to it.
"""
