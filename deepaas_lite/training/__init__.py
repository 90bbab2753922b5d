"""Trainings as durable jobs: records, child processes, cancellation."""
