"""Agencies known to a node, their API tokens and roles."""
