"""dpabot's error hierarchy; every message is one plain sentence the user can act on."""


class DpabotError(Exception):
    """Base of every error dpabot reports to a user."""


class ConfigError(DpabotError):
    """A configuration file or setting is missing or wrong."""


class WorkflowError(DpabotError):
    """An action does not fit the contract's state."""
