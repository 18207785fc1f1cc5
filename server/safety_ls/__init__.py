"""safety-ls: safety annotations for Rust GPU and ML code, checked as you type."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("safety-ls")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"
