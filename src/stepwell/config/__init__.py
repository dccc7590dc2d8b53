"""Typed settings: ``STEPWELL_*`` environment variables, ``stepwell.toml``, defaults.

Rules: settings are read once per process into an immutable :class:`Settings`
object that is passed down (no module-level singleton); every value remembers
where it came from, so an error can name its source. Names follow their
path: ``STEPWELL_<NAME>`` in the environment, ``name`` in ``stepwell.toml``.
"""

from stepwell.config._settings import (
    Setting,
    Settings,
    load_settings,
    resolve_username,
    setting_variables,
)

__all__ = ["Setting", "Settings", "load_settings", "resolve_username", "setting_variables"]
