"""Bed-level import: a hospital's bed list, mapped ward by ward to categories, becomes figures."""
