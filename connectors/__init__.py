"""Vendor connectors and the machinery they share. Knows nothing of Temporal or the store."""
