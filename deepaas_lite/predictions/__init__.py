"""Prediction jobs: predictions submitted now and answered later (``Prefer: respond-async``)."""
