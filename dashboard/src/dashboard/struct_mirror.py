"""Pydantic models mirroring msgspec Structs, for the OpenAPI schema of what the API passes on as is.

Orders, positions, signals and scenario runs are msgspec Structs written by their owner and shown by the
dashboard unchanged; deriving the response model from the Struct keeps one definition of each shape.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

import msgspec
from pydantic import BaseModel, create_model


def mirror(struct: type[msgspec.Struct], name: str) -> type[BaseModel]:
    """A model named `name` with the Struct's fields, all required (msgspec encodes every field, defaults
    included) and its tag field first, as msgspec writes it."""
    config = struct.__struct_config__
    assert not config.omit_defaults, f"{struct.__name__} omits defaults: its fields are not all present"
    fields: dict[str, Any] = {}
    if config.tag is not None:
        fields[config.tag_field] = (Literal[config.tag], ...)
    for f in msgspec.structs.fields(struct):
        fields[f.encode_name] = (_model_type(f.type), ...)
    return create_model(name, __doc__=struct.__doc__, **fields)


def _model_type(tp: Any) -> Any:
    """`tp` with every Struct in it (e.g. list[StepRecord]) replaced by its mirror."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return mirror(tp, tp.__name__)
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (list, dict) and args:
        return typing.get_origin(tp)[tuple(_model_type(a) for a in args)]
    return tp
