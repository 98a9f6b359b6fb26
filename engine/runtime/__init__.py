"""Running procedures on SpiffWorkflow: the script engine, serialization, timers and the runner."""
