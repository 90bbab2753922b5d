from __future__ import annotations

import pytest
from marshmallow import Schema, fields, validate

from deepaas_lite.model import args


class Example(Schema):
    a = fields.Int()


def test_to_schema_accepts_dict_class_and_instance() -> None:
    from_dict = args.to_schema({"a": fields.Int()})
    assert list(from_dict.fields) == ["a"]
    assert isinstance(args.to_schema(Example), Example)
    instance = Example()
    assert args.to_schema(instance) is instance
    assert args.to_schema(None).fields == {}


def test_to_schema_rejects_other_values() -> None:
    with pytest.raises(TypeError):
        args.to_schema({"a": 1})
    with pytest.raises(TypeError):
        args.to_schema([fields.Int()])


def test_file_fields_and_description() -> None:
    schema = args.to_schema(
        {
            "f": fields.Field(metadata={"type": "file", "description": "a file"}),
            "g": fields.Str(data_key="G"),
        }
    )
    assert args.file_fields(schema) == ["f"]
    assert args.description(schema.fields["f"]) == "a file"
    assert args.data_key("g", schema.fields["g"]) == "G"


def test_accept_choices() -> None:
    schema = args.to_schema(
        {"accept": fields.Str(validate=validate.OneOf(["image/png", "application/json"]))}
    )
    assert args.accept_choices(schema) == ["image/png", "application/json"]
    assert args.accept_choices(args.to_schema({})) == []
