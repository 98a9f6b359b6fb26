"""Mandatory checks: how a procedure declares them, the design-time lint, and adherence figures."""
