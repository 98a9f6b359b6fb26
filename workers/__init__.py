"""Celery workers: timer ticks, outbox delivery, fitness-test runs."""
