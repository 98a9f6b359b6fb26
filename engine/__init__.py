"""The incident-procedure engine: procedures, incidents, tasks and their audit trail, with no web or queue code."""
