"""``deepaas.model.v2``: ``base`` (``BaseModel``) and ``wrapper`` (``UploadedFile``)."""
