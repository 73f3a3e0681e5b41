"""Vendor API emulators ("sandbox") for the demo, the tests and the benchmarks.

One ASGI app (see ``sandbox.app``) serves Moodle under ``/moodle`` and Stripe under ``/stripe``,
with deterministic generated data, fault knobs and a control API under ``/_control``. The
emulators follow ``vendors.md`` (the shared vendor fact sheet); each module's docstring says how
faithful it is. Nothing of the product imports this package, and it imports nothing of the
product.
"""
