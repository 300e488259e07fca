"""Routing: which Jinja source is which known format, proved on the parsed template (see `canonical`)."""
