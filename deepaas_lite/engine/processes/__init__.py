"""The local-process executor: predictions in warmed worker processes
(``predictor.py``, running ``worker.py``) and each job in a process of its own
(``jobs.py``, running ``job_main.py``; its output read by ``output.py``)."""
