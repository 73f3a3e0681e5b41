"""Tests of the vendor emulators (sandbox/), over real HTTP on loopback."""
