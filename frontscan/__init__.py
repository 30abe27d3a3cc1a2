"""frontscan: find shipment tracking numbers in Front conversations and keep them in PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("frontscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
