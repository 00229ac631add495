"""Errors a user can act on. Each message says what was wrong, what was received and what to do."""


class RNNLabError(Exception):
    """Base of every error RNN Lab shows to a user in plain words."""


class InputError(RNNLabError):
    """A data file or text the user supplied cannot be used as it is."""


class ConfigError(RNNLabError):
    """A setting is out of range or does not fit the data."""


class TrainingError(RNNLabError):
    """Training failed (NaN loss, crashed worker, out of memory)."""


class JobStopped(RNNLabError):
    """Raised inside a task when the user asked the job to stop before any result existed."""
