"""Every argument location reads the same arguments by the same rules, as the spec says.

The ``kinds`` test plugin has every kind of argument; its ``predict`` answers what it got.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

Client = Any
PREDICT = "/v2/models/kinds/predict/"


async def _post(client: Client, location: str, args: dict[str, Any]) -> Any:
    """POST ``args`` (string values) from one location."""
    if location == "query":
        return await client.post(PREDICT, params=args)
    if location == "urlencoded":
        return await client.post(PREDICT, data=args)
    if location == "multipart":
        form = aiohttp.FormData()
        for key, value in args.items():
            form.add_field(key, value)
        form.add_field("upload", b"x", filename="x.bin")  # forces multipart
        return await client.post(PREDICT, data=form)
    assert location == "json"
    return await client.post(PREDICT, json=args)


LOCATIONS = ["query", "urlencoded", "multipart", "json"]


@pytest.mark.parametrize("location", LOCATIONS)
async def test_unknown_keys_are_422_in_every_location(client: Client, location: str) -> None:
    args = {"numbers": [1] if location == "json" else "1", "nope": "1"}
    resp = await _post(client, location, args)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"nope": ["Unknown field."]}


async def test_unknown_query_key_next_to_a_json_body_is_422(client: Client) -> None:
    resp = await client.post(PREDICT + "?nope=1", json={"numbers": [1]})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"nope": ["Unknown field."]}


async def test_model_without_arguments_rejects_query_keys(client: Client) -> None:
    resp = await client.post("/v2/models/bare-predict/predict/?ignored=1")
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"ignored": ["Unknown field."]}


async def test_accept_is_a_query_argument(client: Client) -> None:
    resp = await client.post(PREDICT + "?numbers=1&accept=text/plain")
    assert resp.status == 200
    assert resp.content_type == "text/plain"


@pytest.mark.parametrize("location", ["urlencoded", "multipart", "json"])
async def test_accept_in_a_body_is_422(client: Client, location: str) -> None:
    args = {"numbers": [1] if location == "json" else "1", "accept": "text/plain"}
    resp = await _post(client, location, args)
    assert resp.status == 422
    errors = (await resp.json())["errors"]
    assert list(errors) == ["accept"] and "Accept header" in errors["accept"][0]


@pytest.mark.parametrize("value", [2.5e-42, 2.5, -0.5])
async def test_json_integer_with_a_fraction_is_422(client: Client, value: float) -> None:
    resp = await client.post(PREDICT, json={"numbers": [1], "level": value})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"level": ["Not a valid integer."]}


async def test_json_integral_float_is_an_integer(client: Client) -> None:
    resp = await client.post(PREDICT, json={"numbers": [1], "level": 2.0})
    assert resp.status == 200
    assert (await resp.json())["predictions"]["level"] == 2


async def test_json_integers_beyond_64_bits_arrive_and_return_exact(client: Client) -> None:
    """Read by the standard decoder, not as orjson's floats, and answered by the
    standard encoder: the very integers, both ways."""
    big = {"a": 123456789012345678901234567890, "b": -(2**64), "c": 2**63 - 1}
    resp = await client.post(PREDICT, data=json.dumps({"numbers": [1], "tags": big}),
                             headers={"Content-Type": "application/json"})  # fmt: skip
    assert resp.status == 200, await resp.text()
    assert json.loads(await resp.text())["predictions"]["tags"] == big


async def test_json_integer_with_a_fraction_inside_a_dict_is_422(client: Client) -> None:
    resp = await client.post(PREDICT, json={"numbers": [1], "tags": {"a": 1, "b": 0.5}})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"tags": {"b": {"value": ["Not a valid integer."]}}}


@pytest.mark.parametrize("value", [0, 1, "true", "1"])
async def test_json_boolean_is_true_or_false_only(client: Client, value: Any) -> None:
    resp = await client.post(PREDICT, json={"numbers": [1], "flag": value})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"flag": ["Not a valid boolean."]}


@pytest.mark.parametrize("value", ["1.5", "5"])
async def test_json_number_is_not_a_string(client: Client, value: str) -> None:
    resp = await client.post(PREDICT, json={"numbers": [value]})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"numbers": {"0": ["Not a valid number."]}}


@pytest.mark.parametrize(
    ("text", "flag"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
@pytest.mark.parametrize("location", ["query", "urlencoded", "multipart"])
async def test_boolean_strings(client: Client, location: str, text: str, flag: bool) -> None:
    resp = await _post(client, location, {"numbers": "1", "flag": text})
    assert resp.status == 200
    assert (await resp.json())["predictions"]["flag"] is flag


@pytest.mark.parametrize("text", ["yes", "on", "t", "", "1", "0", " true"])
@pytest.mark.parametrize("location", ["query", "urlencoded", "multipart"])
async def test_other_boolean_strings_are_422(client: Client, location: str, text: str) -> None:
    resp = await _post(client, location, {"numbers": "1", "flag": text})
    assert resp.status == 422
    assert list((await resp.json())["errors"]) == ["flag"]


def _raw_multipart(disposition: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body: ``numbers=1`` and a part named by ``disposition``, value 1.5."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n1\r\n'
        b"--XX\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\n1.5\r\n--XX--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=XX"}


# Browsers (HTML5) and urllib3 send a part name as UTF-8; aiohttp's client as RFC 5987.
NON_ASCII_NAMES = ['name="größe"'.encode(), b"name*=utf-8''gr%C3%B6%C3%9Fe"]


@pytest.mark.parametrize("location", ["query", "urlencoded", "json"])
async def test_argument_with_a_non_ascii_name(client: Client, location: str) -> None:
    args: dict[str, Any] = {"numbers": [1] if location == "json" else "1", "größe": "1.5"}
    if location == "json":
        args["größe"] = 1.5
    resp = await _post(client, location, args)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["größe"] == 1.5


@pytest.mark.parametrize("disposition", NON_ASCII_NAMES)
async def test_multipart_part_with_a_non_ascii_name(client: Client, disposition: bytes) -> None:
    body, headers = _raw_multipart(disposition)
    resp = await client.post(PREDICT, data=body, headers=headers)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["größe"] == 1.5


@pytest.mark.parametrize("disposition", [n.replace(b"gr", b"un") for n in NON_ASCII_NAMES])
async def test_unknown_multipart_part_with_a_non_ascii_name_is_422(
    client: Client, disposition: bytes
) -> None:
    body, headers = _raw_multipart(disposition)
    resp = await client.post(PREDICT, data=body, headers=headers)
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"unöße": ["Unknown field."]}


@pytest.mark.parametrize("name", [b"a\x01b", b"a\x7fb"])
async def test_part_name_with_control_characters_is_400(client: Client, name: bytes) -> None:
    body, headers = _raw_multipart(b'name="' + name + b'"')
    resp = await client.post(PREDICT, data=body, headers=headers)
    assert resp.status == 400
    assert (await resp.json())["code"] == 400


@pytest.mark.parametrize("location", ["query", "multipart"])
async def test_nested_object_as_json_text(client: Client, location: str) -> None:
    resp = await _post(client, location, {"numbers": "1", "point": '{"x": 1}', "tags": '{"a": 2}'})
    assert resp.status == 200
    predictions = (await resp.json())["predictions"]
    assert predictions["point"] == {"x": 1.0, "y": 0.0}
    assert predictions["tags"] == {"a": 2}


@pytest.mark.parametrize("text", ["{", "[1]", "x"])
async def test_nested_object_that_is_not_a_json_object_is_422(client: Client, text: str) -> None:
    resp = await _post(client, "multipart", {"numbers": "1", "point": text})
    assert resp.status == 422
    assert list((await resp.json())["errors"]) == ["point"]


async def test_object_argument_as_a_json_part(client: Client) -> None:
    """As the document's multipart encoding says: the part's type is application/json."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n1\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="point"\r\n'
        b'Content-Type: application/json\r\n\r\n{"x": 2}\r\n--XX--\r\n'
    )
    headers = {"Content-Type": "multipart/form-data; boundary=XX"}
    resp = await client.post(PREDICT, data=body, headers=headers)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["point"] == {"x": 2.0, "y": 0.0}


async def test_part_that_is_not_utf8_text_is_422(client: Client) -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="numbers"\r\n\r\n1\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="colour"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\xff\xfe\r\n--XX--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=XX"}
    resp = await client.post(PREDICT, data=body, headers=headers)
    assert resp.status == 422
    assert list((await resp.json())["errors"]) == ["colour"]


async def test_json_text_of_an_object_argument_keeps_json_types(client: Client) -> None:
    resp = await _post(client, "multipart", {"numbers": "1", "tags": '{"a": 0.5}'})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"tags": {"a": {"value": ["Not a valid integer."]}}}
