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
import hashlib
import json
import os
import sys
from pathlib import Path

from tf.gen import tfplugin_pb2 as pb
from tf.runner import run_provider
from tf.types import Unknown

BLOCK_NESTING = {"list": pb.Schema.NestedBlock.LIST, "set": pb.Schema.NestedBlock.SET,
                 "single": pb.Schema.NestedBlock.SINGLE}
OBJECT_NESTING = {"list": pb.Schema.Object.LIST, "set": pb.Schema.Object.SET,
                  "map": pb.Schema.Object.MAP, "single": pb.Schema.Object.SINGLE}


def compiled_schemas(schema_file: Path) -> pb.GetProviderSchema.Response:
    """The schema file as the protocol message, kept beside it: Terraform starts a provider
    several times per command, and reading the message is much faster than building it."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    compiled = schema_file.with_name(f"{schema_file.name}.{digest}.pb")
    if compiled.exists():
        return pb.GetProviderSchema.Response.FromString(compiled.read_bytes())
    schema = json.loads(gzip.decompress(schema_file.read_bytes()))["schema"]
    response = pb.GetProviderSchema.Response(
        provider=_schema(schema["provider"]),
        resource_schemas={name: _schema(s) for name, s in schema["resource_schemas"].items()},
        data_source_schemas={name: _schema(s) for name, s in schema["data_source_schemas"].items()})
    partial = compiled.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(response.SerializeToString())
    partial.replace(compiled)
    return response


def _schema(schema: dict) -> pb.Schema:
    return pb.Schema(version=schema.get("version", 0), block=_block(schema["block"]))


def _block(block: dict) -> pb.Schema.Block:
    nested = [pb.Schema.NestedBlock(type_name=name, block=_block(spec["block"]),
                                    nesting=BLOCK_NESTING[spec["nesting_mode"]],
                                    min_items=spec.get("min_items", 0),
                                    max_items=spec.get("max_items", 0))
              for name, spec in block.get("block_types", {}).items()]
    attributes = [_attribute(name, attr) for name, attr in block.get("attributes", {}).items()]
    return pb.Schema.Block(attributes=attributes, block_types=nested)


def _attribute(name: str, attr: dict) -> pb.Schema.Attribute:
    if "nested_type" in attr:
        nested = attr["nested_type"]
        kind = {"nested_type": pb.Schema.Object(
            attributes=[_attribute(n, a) for n, a in nested["attributes"].items()],
            nesting=OBJECT_NESTING[nested["nesting_mode"]])}
    else:
        kind = {"type": json.dumps(attr["type"]).encode()}
    return pb.Schema.Attribute(name=name, required=attr.get("required", False),
                               optional=attr.get("optional", False),
                               computed=attr.get("computed", False),
                               sensitive=attr.get("sensitive", False), **kind)


class _Schema:
    """Duck-types ``tf.schema.Schema``: all the servicer calls is ``to_pb``."""

    def __init__(self, message: pb.Schema):
        self.message = message

    def to_pb(self) -> pb.Schema:
        return self.message


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
        for path in read_only_values(self.schema.message.block, config or {}, []):
            diags.add_error("Value for unconfigurable attribute",
                            f"Can't configure a value for \"{path[-1]}\": its value will be "
                            "decided automatically based on the result of applying this "
                            "configuration.", path=path)


def read_only_values(block: pb.Schema.Block, config: dict, path: list) -> list[list]:
    """The paths (as ``tf`` writes them: names, and ``(index,)`` steps) of configured values of
    computed-only attributes in ``config``, one decoded block of configuration."""
    found = []
    for attr in block.attributes:
        settable = attr.optional or attr.required
        if attr.computed and not settable and config.get(attr.name) not in (None, Unknown):
            found.append([*path, attr.name])
    for nested in block.block_types:
        value = config.get(nested.type_name)
        if value in (None, Unknown):
            continue
        if nested.nesting == pb.Schema.NestedBlock.SINGLE:
            found += read_only_values(nested.block, value, [*path, nested.type_name])
            continue
        for index, element in enumerate(value):
            # a set element has no index to point at: the path stops at the block
            step = [(index,)] if nested.nesting == pb.Schema.NestedBlock.LIST else []
            if isinstance(element, dict):
                found += read_only_values(nested.block, element, [*path, nested.type_name, *step])
    return found


def _types(schemas) -> list[type]:
    return [type(name, (_Accepting,), {"name": name, "schema": _Schema(message)})
            for name, message in schemas.items()]


class SchemaOnlyProvider:
    """A ``tf.iface.Provider`` made of one rebuilt schema file (see ``rebuild``)."""

    def __init__(self, source: str, schema_file: Path):
        self.source = source
        schemas = compiled_schemas(Path(schema_file))
        self.provider_schema = _Schema(schemas.provider)
        self.resources = _types(schemas.resource_schemas)
        self.data_sources = _types(schemas.data_source_schemas)

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


def serve(source: str, schema_file: str) -> None:
    run_provider(SchemaOnlyProvider(source, Path(schema_file)), sys.argv)
