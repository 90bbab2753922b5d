"""The Ray executor: trainings and predictions on a Ray cluster (``--train-executor ray``,
``--predict-executor ray``; the ``deepaas-lite[ray]`` extra).

``cluster.py`` connects this server to the cluster once and watches it; ``training.py``
runs one training as a Ray task (``remote.py`` is what runs on the cluster);
``predictor.py`` serves a model from Ray actors. Only ``cluster.py`` may be imported
without Ray installed: it imports Ray when it connects.
"""
