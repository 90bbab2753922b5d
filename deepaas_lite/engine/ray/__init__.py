"""The Ray executor: jobs (trainings) and predictions on a Ray cluster
(``--train-executor ray``, ``--predict-executor ray``; the ``deepaas-lite[ray]`` extra).

``executor.py`` is its registration; ``cluster.py`` connects this server to the
cluster once and watches it; ``jobs.py`` runs one job as a Ray task (``remote.py`` is
what runs on the cluster); ``predictor.py`` serves a model from Ray actors. Only
``executor.py`` and ``cluster.py`` may be imported without Ray installed: Ray is
imported when connecting, or when what runs on the cluster is built.
"""
