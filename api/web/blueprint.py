"""The pages' one blueprint: every page module adds its views to :data:`web`."""

from __future__ import annotations

from flask import Blueprint

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
"""The pages: templates under ``api/web/templates``, vendored assets served at ``/assets``."""
