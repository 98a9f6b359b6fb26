"""Monitoring: metrics from the audit trail, criteria evaluation, recommendations and debriefs."""
