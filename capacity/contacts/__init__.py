"""Whom a midwife phones: each facility's numbers by type, and each region's coordination."""
