"""The execution engine: where a model's predictions and trainings run.

The plugin facade (``model/``) says what a model is; this package runs it. An executor
is one module or package behind the protocols of ``protocol.py``: ``threads.py``
(predictions in threads of the server), ``processes/`` (local worker and training
processes) and ``ray/`` (Ray actors and tasks; imports Ray only when chosen).
``select.py`` picks the executors; ``base.py`` (what every predictor does around a
call), ``limits.py`` and ``batching.py`` are shared by the predictors, ``children.py`` by
everything that runs a local child process.
"""
