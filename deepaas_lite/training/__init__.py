"""Trainings as durable jobs: their records and store, inputs, logs, scheduling and
cancellation (``manager.py``). Each runs as a job of the engine (``engine/``), which
this package imports, never the other way."""
