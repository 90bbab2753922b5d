"""The training manager: the one object the web layer talks to about trainings.

INTERFACE (agreed between the web layer and the training package):

    manager = TrainingManager(models, state_dir, workers=1, history=100)
    await manager.start()        # open the store; running -> interrupted; requeue pending
    record = await manager.submit(model_id, args)   # args may hold UploadedFile values
    manager.list(model_id) -> list[dict]            # oldest first
    manager.get(model_id, uuid) -> dict
    record = await manager.cancel(model_id, uuid)   # TrainingFinished when already ended
    manager.log_path(model_id, uuid) -> pathlib.Path
    await manager.close()        # running -> interrupted, no child left behind

Records are plain dicts in the DEEPaaS shape (see ../shared/API.md).
Errors: ModelNotFound, TrainingNotFound, TrainingFinished, NotImplementedByModel.
"""
