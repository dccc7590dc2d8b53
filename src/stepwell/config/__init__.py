"""Typed settings: ``STEPWELL_*`` environment variables, ``stepwell.toml``, defaults.

Rules: settings are read once per process into an immutable :class:`Settings`
object that is passed down (no module-level singleton); every value remembers
where it came from, so an error can name its source. Names follow their
path: ``STEPWELL_<NAME>`` in the environment, ``name`` in ``stepwell.toml``.
Metaflow's names for the same settings (``METAFLOW_DEFAULT_DATASTORE``, ...) are
read as aliases; a ``STEPWELL_*`` variable wins over its alias.
"""

from stepwell.config._settings import (
    ENVIRONMENTS,
    Setting,
    Settings,
    load_settings,
    resolve_username,
    setting_names,
    setting_variables,
    variables_of,
)

__all__ = [
    "ENVIRONMENTS",
    "Setting",
    "Settings",
    "load_settings",
    "resolve_username",
    "setting_names",
    "setting_variables",
    "variables_of",
]
