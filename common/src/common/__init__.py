"""Shared code for every Scalper service: config, bus schemas, bus, lifecycle, health, metrics, logs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scalper-common")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
