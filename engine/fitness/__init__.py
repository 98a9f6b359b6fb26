"""Fitness tests: a Locust run against an engine serving one exact procedure version on its own database."""
