"""tagwise: self-hosted custom text classification with an Azure-compatible API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
