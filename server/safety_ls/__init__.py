"""safety-ls: safety annotations for Rust GPU and ML code, checked as you type."""

# The one place the version is written (pyproject.toml reads it): asking importlib.metadata
# instead would cost every command ~20 ms of start-up.
__version__ = "0.1.0"
