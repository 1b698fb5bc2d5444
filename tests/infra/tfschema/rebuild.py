"""Rebuild a provider's schema, as ``terraform providers schema -json`` prints it, from a cdktf
prebuilt provider package, and keep it in a cache keyed by the package and by this parser.

The jsii assembly says which properties each config struct has, whether each is optional (for a
list or set block: whether ``min_items`` is 1 or more), whether a struct-typed property comes from a
nested block (documented "<name> block.") or from an object-typed attribute, and for a block
whether it is one struct (``max_items`` 1) or an array of them; the generated JavaScript (see
``javascript``) gives the Terraform names, the nesting mode and the computed-only attributes.
What the package cannot tell is left out: descriptions, ``sensitive``, ``deprecated``, other
``min_items``/``max_items``, and ``computed`` on attributes that are also optional. Terraform does
not need those to validate a configuration. Object-typed attributes come out as nested attributes,
which accept what an object type accepts and more (an omitted optional member).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

from tests.infra.tfschema import assembly as packages
from tests.infra.tfschema import javascript
from tests.infra.tfschema.javascript import Code, Computed, Field, SchemaError

PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}
NESTING = {"list": "list", "set": "set", "struct": "single"}
KINDS = {"TerraformResource": "resource_schemas", "TerraformDataSource": "data_source_schemas"}
# Meta-arguments that cdktf generates as if they were provider or resource arguments.
META = {"TerraformProvider": {"alias"}}


def provider_schema(wheel: Path) -> dict:
    """``{"source", "version", "package", "schema": {provider, resource_schemas, ...}}``."""
    return Rebuild(packages.read_wheel(wheel)).run()


def schema_file(wheel: Path, cache: Path) -> Path:
    """The gzipped ``provider_schema`` of ``wheel`` in ``cache``, rebuilt only when the wheel or
    this parser is new (the file name has both)."""
    path = cache / f"{wheel.stem}-{parser_digest()}.json.gz"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        body = json.dumps(provider_schema(wheel), separators=(",", ":")).encode()
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(gzip.compress(body, 6))
        partial.replace(path)  # atomic: a concurrent reader sees the whole file or none
        for stale in cache.glob(f"{wheel.stem}-*.json.gz*"):  # older parsers' (and their .pb)
            if not stale.name.startswith(path.name):
                stale.unlink(missing_ok=True)
    return path


def read_schema_file(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def parser_digest() -> str:
    """Changes whenever the code that rebuilds a schema changes, so a stale cache is not read."""
    digest = hashlib.sha256()
    for module in (packages, javascript):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


class Rebuild:
    def __init__(self, package: packages.Assembly):
        self.package = package
        self.types = package.types
        self.code: Code = javascript.parse(package.javascript.values())

    def run(self) -> dict:
        if self.code.provider is None:
            raise SchemaError(f"{self.package.name}: no providerName/providerVersion in its code")
        name, version = self.code.provider
        schema: dict = {"provider": None, "resource_schemas": {}, "data_source_schemas": {}}
        for _fqn, jsii_type in sorted(self.types.items()):
            base = (jsii_type.get("base") or "").removeprefix("cdktf.")
            if jsii_type.get("kind") != "class" or base not in (*KINDS, "TerraformProvider"):
                continue
            block = {"version": 0, "block": self.top_level(jsii_type, base)}
            if base == "TerraformProvider":
                schema["provider"] = block
            else:
                schema[KINDS[base]][self.code.resource_types[jsii_type["name"]]] = block
        if schema["provider"] is None:
            raise SchemaError(f"{self.package.name}: no provider class")
        return {"source": f"registry.terraform.io/hashicorp/{name}", "version": version,
                "package": f"{self.package.name}@{self.package.version}", "schema": schema}

    def top_level(self, jsii_class: dict, base: str) -> dict:
        [config] = [p for p in jsii_class["initializer"]["parameters"] if p["name"] == "config"]
        struct = self.types[config["type"]["fqn"]]
        name = jsii_class["name"]
        return self.block(struct, self.code.hcl[name], name, skip=META.get(base, set()))

    def block(self, struct: dict, fields: dict[str, Field], reference: str, skip=frozenset(),
              objects: bool = False) -> dict:
        """One block: ``struct`` (jsii) gives optionality, ``fields`` (JavaScript) the Terraform
        side, and the class ``reference`` (a resource or an OutputReference) its computed-only
        attributes. With ``objects``, the structs inside are object attributes, not blocks."""
        properties = {p["name"]: p for p in struct.get("properties", [])}
        if set(properties) != set(fields):
            odd = sorted(set(properties) ^ set(fields))
            raise SchemaError(f"{struct['fqn']}: jsii properties {odd} differ from the code")
        attributes, blocks = {}, {}
        for prop_name, fld in sorted(fields.items(), key=lambda item: item[1].name):
            if fld.name in skip:
                continue
            prop = properties[prop_name]
            presence = "required" if not prop.get("optional", False) else "optional"
            if fld.structs and (objects or not documented_as_block(prop, fld)):
                attributes[fld.name] = {"nested_type": self.nested_type(prop, fld),
                                        "description_kind": "plain", presence: True}
            elif fld.structs:
                blocks[fld.name] = self.nested_block(prop, fld, presence == "required")
            else:
                attributes[fld.name] = {"type": attribute_type(fld), "description_kind": "plain",
                                        presence: True}
        for computed in self.code.computed.get(reference, []):
            if computed.name not in attributes and computed.name not in blocks:
                attributes[computed.name] = {"type": self.computed_type(computed),
                                             "description_kind": "plain", "computed": True}
        result: dict = {}
        if attributes:
            result["attributes"] = dict(sorted(attributes.items()))
        if blocks:
            result["block_types"] = blocks
        result["description_kind"] = "plain"
        return result

    def inner(self, prop: dict, objects: bool = False) -> tuple[dict, bool]:
        """The block made of a struct-typed property's struct, and whether it holds one struct."""
        fqn, single = element_struct(prop["type"], prop["name"])
        struct = self.types[fqn]
        block = self.block(struct, self.code.hcl.get(struct["name"], {}),
                           struct["name"] + "OutputReference", objects=objects)
        return block, single

    def nested_block(self, prop: dict, fld: Field, required: bool) -> dict:
        if fld.kind not in NESTING:
            raise SchemaError(f"{prop['name']}: unknown block nesting {fld.kind!r}")
        block, single = self.inner(prop)
        mode = NESTING[fld.kind]
        if mode == "set" and holds_dynamic(block):
            mode = "list"  # Terraform refuses set blocks with "any" inside (cdktf's skipped parts)
        nested = {"nesting_mode": mode, "block": block}
        if nested["nesting_mode"] != "single":
            if required:
                nested["min_items"] = 1
            if single:
                nested["max_items"] = 1
        return nested

    def nested_type(self, prop: dict, fld: Field) -> dict:
        """A nested attribute: ``x = [{...}]`` (list, set), ``x = {k = {...}}`` (map),
        ``x = {...}`` (single); its own attributes keep their own optionality."""
        block, _ = self.inner(prop, objects=True)
        return {"attributes": block.get("attributes", {}),
                "nesting_mode": {"struct": "single"}.get(fld.kind, fld.kind)}

    def computed_type(self, computed: Computed):
        if computed.element is None:
            return computed.type
        if computed.element not in self.code.computed:
            raise SchemaError(f"no class {computed.element} for computed attribute {computed.name}")
        members = {c.name: self.computed_type(c) for c in self.code.computed[computed.element]}
        obj = ["object", dict(sorted(members.items()))]
        return [computed.collection, obj] if computed.collection else obj


def holds_dynamic(block: dict) -> bool:
    """Whether any attribute in ``block``, at any depth, has (or contains) the type "dynamic"."""
    def dynamic(cty) -> bool:
        if isinstance(cty, list):
            return any(dynamic(part) for part in cty)
        if isinstance(cty, dict):
            return any(dynamic(part) for part in cty.values())
        return cty == "dynamic"

    for attr in block.get("attributes", {}).values():
        if dynamic(attr.get("type")) or holds_dynamic(attr.get("nested_type", {})):
            return True
    return any(holds_dynamic(nested["block"]) for nested in block.get("block_types", {}).values())


def documented_as_block(prop: dict, fld: Field) -> bool:
    """cdktf documents a property made from a nested block as "<name> block." and one made from an
    attribute with that attribute's description: the one place where a single nested block and a
    single object attribute differ in the package."""
    block = prop.get("docs", {}).get("summary") == f"{fld.name} block."
    if block and fld.attribute_syntax:
        raise SchemaError(f"{prop['name']}: documented as a block but mapped as an attribute")
    return block


def element_struct(jsii_type: dict, where: str) -> tuple[str, bool]:
    """The struct of a nested block, and whether the block is a single struct (at most one)."""
    if "fqn" in jsii_type:
        return jsii_type["fqn"], True
    for option in jsii_type.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if "fqn" in element:  # an array, or a map, of structs
            return element["fqn"], False
        if "fqn" in option and option["fqn"] != "cdktf.IResolvable":
            return option["fqn"], True
    raise SchemaError(f"{where}: cannot find the struct of this block in {jsii_type}")


def attribute_type(fld: Field):
    """The cty type of a configurable attribute, from cdktf's kind and storage class: the storage
    class names the element type and the collections around it, innermost first
    (``stringMapList`` of kind ``list`` is a list of maps of strings)."""
    if fld.kind == "simple" and fld.storage in PRIMITIVES:
        return PRIMITIVES[fld.storage]
    match = re.fullmatch(r"(string|number|boolean|any)((?:List|Map)+)", fld.storage)
    if match is None or fld.kind not in ("list", "set", "map"):
        raise SchemaError(f"attribute {fld.name}: unknown type {fld.kind}/{fld.storage}")
    *inner, outer = re.findall("List|Map", match.group(2))
    if (outer == "Map") != (fld.kind == "map"):
        raise SchemaError(f"attribute {fld.name}: {fld.kind} stored as {fld.storage}")
    cty = PRIMITIVES[match.group(1)]
    for collection in inner:
        cty = [collection.lower(), cty]
    return [fld.kind, cty]
