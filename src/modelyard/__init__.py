"""modelyard: a self-hosted Model-as-a-Service platform."""

__version__ = "0.1.0"
__all__ = ["__version__"]
