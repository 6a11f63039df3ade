"""CogFlow Desktop: run cognitive experiments offline, store results sealed, sync them later."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cogflow-desktop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"
