"""Events and correlation: messages and signals that reach incidents from outside, and timer start schedules.

Pure logic only (no database, no SpiffWorkflow): what a correlation request may contain, how a waiting
incident's variables become indexed correlation keys, what the matches of a correlation decide, and when a
timer start event fires next. The use cases are engine.services.messages, .signals and .timer_starts.
"""
