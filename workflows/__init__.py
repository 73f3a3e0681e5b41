"""Deterministic workflow code only. Keep this file import-free (the sandbox re-imports it)."""
