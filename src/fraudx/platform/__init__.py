"""The platform layer: configuration, storage, auth, audit, events and the HTTP shell.

Everything else in FraudX stands on this package; it imports no capability package.
"""
