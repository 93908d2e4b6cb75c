"""Rendering bot text: the sandboxed template renderer."""
