"""The local-process executor: predictions in warmed worker processes
(``predictor.py``, running ``worker.py``) and each training in a process of its own
(``training.py``)."""
