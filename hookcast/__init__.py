"""hookcast: record changes of a radio station, pushed as signed webhooks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hookcast")
except PackageNotFoundError:  # Running from a source tree that is not installed.
    __version__ = "0.0.0"

__all__ = ["__version__"]
