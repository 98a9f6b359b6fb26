"""Scenario tests of a procedure version: the file format, the step runner, the path taken and coverage.

Pure: the runner drives an incident through a Driver port; engine.services.scenario_store provides the
real one (the engine's own services on an isolated in-memory database).
"""
