"""Quoting and export: citations, the quote basket, and the files made from it."""
