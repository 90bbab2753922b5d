"""The execution engine: where a model's predictions and jobs (trainings) run.

The plugin facade (``model/``) says what a model is; this package runs it, and knows
nothing of records: it runs a ``Job`` it is handed and reports through the job's sink
(``protocol.py``). An executor is one module or package behind the protocols of
``protocol.py``, registered by name in ``executors.py``: ``local.py`` (predictions in
threads of the server, ``threads.py``, or in worker processes, and each job in a
process of its own: ``processes/``) and ``ray/`` (Ray actors and tasks; imports Ray
only when chosen). ``base.py`` (what every predictor does around a call),
``limits.py`` and ``batching.py`` are shared by the predictors, ``calls.py`` (the
plugin's calls, a job's included) and ``capture.py`` (a job's output) by everything
that runs the plugin, ``children.py`` by everything that runs a local child process.
"""
