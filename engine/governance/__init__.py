"""Procedure governance as pure logic: the lifecycle, approval rules, criteria and the activation briefing."""
