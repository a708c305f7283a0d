"""FraudX: the cross-border fraud intelligence exchange."""

__version__ = "0.1.0"
