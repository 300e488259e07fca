"""The transformers-exact sandboxed Jinja engine: chatfmt's general path for any chat template.

Its modules import jinja2 only when a template is first rendered, so importing chatfmt stays cheap.
"""
