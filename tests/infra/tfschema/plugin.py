"""A stand-in Terraform provider that knows a real provider's schema and nothing else.

Terraform starts it like any provider plugin (the ``tf`` package does the go-plugin handshake and
serves protocol 6 over gRPC). It answers GetProviderSchema with a schema rebuilt by ``rebuild``,
and accepts every provider, resource and data source configuration: Terraform core itself checks a
configuration against the schema (unknown arguments, missing required ones, blocks written as
arguments, unknown resource types, references to attributes that do not exist), which is all that
``terraform validate`` needs. Planning or applying with it is not supported.

Only the tools environment (``.venv-tools``, where ``tf`` is installed) imports this module; the
launcher that ``mirror`` writes runs ``serve``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from tf.gen import tfplugin_pb2 as pb
from tf.runner import run_provider
from tf.types import Unknown

NESTING = {"list": pb.Schema.NestedBlock.LIST, "set": pb.Schema.NestedBlock.SET,
           "single": pb.Schema.NestedBlock.SINGLE}


class _Schema:
    """Duck-types ``tf.schema.Schema`` (all the servicer calls is ``to_pb``) over schema JSON."""

    def __init__(self, schema: dict):
        self.schema = schema

    def to_pb(self) -> pb.Schema:
        return pb.Schema(version=self.schema.get("version", 0), block=_block(self.schema["block"]))


def _block(block: dict) -> pb.Schema.Block:
    attributes = [pb.Schema.Attribute(name=name, type=json.dumps(attr["type"]).encode(),
                                      required=attr.get("required", False),
                                      optional=attr.get("optional", False),
                                      computed=attr.get("computed", False),
                                      sensitive=attr.get("sensitive", False))
                  for name, attr in block.get("attributes", {}).items()]
    nested = [pb.Schema.NestedBlock(type_name=name, block=_block(spec["block"]),
                                    nesting=NESTING[spec["nesting_mode"]],
                                    min_items=spec.get("min_items", 0),
                                    max_items=spec.get("max_items", 0))
              for name, spec in block.get("block_types", {}).items()]
    return pb.Schema.Block(attributes=attributes, block_types=nested)


class _Accepting:
    """A resource or data source type: its schema, and a validation that leaves it to Terraform."""

    name = ""
    schema: _Schema

    def __init__(self, provider):
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_schema(cls) -> _Schema:
        return cls.schema

    def validate(self, diags, type_name, config):
        """Terraform core has already checked the configuration against the schema, except for
        one thing that providers check themselves: no value for an attribute that is only
        computed (the SDK's "Value for unconfigurable attribute")."""
        for path in read_only_values(self.schema.schema["block"], config or {}, []):
            diags.add_error("Value for unconfigurable attribute",
                            f"Can't configure a value for \"{path[-1]}\": its value will be "
                            "decided automatically based on the result of applying this "
                            "configuration.", path=path)


def read_only_values(block: dict, config: dict, path: list) -> list[list]:
    """The paths (as ``tf`` writes them: names, and ``(index,)`` steps) of configured values of
    computed-only attributes in ``config``, one decoded block of configuration."""
    found = []
    for name, attr in block.get("attributes", {}).items():
        settable = attr.get("optional") or attr.get("required")
        if attr.get("computed") and not settable and config.get(name) not in (None, Unknown):
            found.append([*path, name])
    for name, nested in block.get("block_types", {}).items():
        value = config.get(name)
        if value in (None, Unknown):
            continue
        if nested["nesting_mode"] == "single":
            found += read_only_values(nested["block"], value, [*path, name])
            continue
        for index, element in enumerate(value):
            # a set element has no index to point at: the path stops at the block
            step = [name, (index,)] if nested["nesting_mode"] == "list" else [name]
            if isinstance(element, dict):
                found += read_only_values(nested["block"], element, [*path, *step])
    return found


def _types(schemas: dict[str, dict]) -> list[type]:
    return [type(name, (_Accepting,), {"name": name, "schema": _Schema(schema)})
            for name, schema in schemas.items()]


class SchemaOnlyProvider:
    """A ``tf.iface.Provider`` made of one rebuilt schema file (see ``rebuild``)."""

    def __init__(self, schema_file: Path):
        document = json.loads(gzip.decompress(Path(schema_file).read_bytes()))
        self.source = document["source"]
        schema = document["schema"]
        self.provider_schema = _Schema(schema["provider"])
        self.resources = _types(schema["resource_schemas"])
        self.data_sources = _types(schema["data_source_schemas"])

    def full_name(self) -> str:
        return self.source

    def get_model_prefix(self) -> str:
        return ""  # the type names in the schema are already complete

    def get_provider_schema(self, diags) -> _Schema:
        return self.provider_schema

    def get_resources(self) -> list[type]:
        return self.resources

    def get_data_sources(self) -> list[type]:
        return self.data_sources

    def get_functions(self) -> list:
        return []

    def validate_config(self, diags, config) -> None:
        """Nothing beyond the schema, which Terraform checks."""

    def configure_provider(self, diags, config) -> None:
        diags.add_error("This provider only knows its schema",
                        "It is a stand-in for terraform validate; it cannot plan or apply.")

    def new_resource(self, klass):
        return klass(self)

    def new_data_source(self, klass):
        return klass(self)


def serve(schema_file: str) -> None:
    run_provider(SchemaOnlyProvider(Path(schema_file)), sys.argv)
