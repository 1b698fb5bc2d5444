"""What the generated JavaScript of a cdktf provider says that its jsii assembly does not.

The jsii assembly has camelCase property names and TypeScript types; the JavaScript has the
Terraform side, in three generated shapes that this module reads with regular expressions:

* ``function fooBarToHclTerraform(struct) { const attrs = { snake_name: { value: ...struct.camel...,
  isBlock, type, storageClassType } } }`` for every struct (and the same table in each resource's
  ``synthesizeHclAttributes``): the Terraform name of each configurable property, whether it is a
  nested block, and the block's nesting (``list``, ``set``, or ``struct`` for a single block);
* ``// snake_name - computed: true, optional: false, required: false`` before the getter (or the
  constructor line) of each computed-only attribute, which the config structs leave out;
* ``Foo.tfResourceType = "google_foo";`` and ``providerName: 'google', providerVersion: '6.50.0'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_CLASS = re.compile(r"^class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}\n", re.MULTILINE | re.DOTALL)
_HCL_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}\n",
                           re.MULTILINE | re.DOTALL)
_HCL_FIELD = re.compile(
    r'^\s+"?(\w+)"?: \{\n\s+value: (.+),\n\s+isBlock: (true|false),\n\s+type: "(\w+)",\n'
    r'\s+storageClassType: "(\w+)",\n', re.MULTILINE)
_PROPERTY = re.compile(r"(?:\bstruct\.|\bthis\._)(\w+)")
_ATTRIBUTE_LIST = re.compile(r"listMapperHcl\([\w$.]+, false\)")
_COMPUTED = re.compile(
    r"^\s+// (\w+) - computed: true, optional: false, required: false\n(?=(.*)\n(.*)\n)",
    re.MULTILINE)  # a lookahead: the next comment may start on the second line
_GETTER = re.compile(
    r"return (?:cdktf\.Token\.\w+\()?(cdktf\.Fn\.tolist\()?this\.(\w+)\('(\w+)'\)\)*;")
_MEMBER = re.compile(
    r'this\._\w+ = new ([\w$.]+)\(this, "(\w+)"(?:, (true|false))?\);')
_CONFIG = re.compile(r"^\s+this\._(\w+)(?:\.internalValue)? = config\.(\w+);$", re.MULTILINE)
_RESOURCE_TYPE = re.compile(r'^(\w+)\.tfResourceType = "([\w-]+)";$', re.MULTILINE)
_GENERATOR = re.compile(r"providerName: '([\w-]+)',\s*providerVersion: '([^']+)'")

GETTERS = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "getAnyMapAttribute": ["map", "dynamic"],
    # cdktf gives up on some deep or dynamic types; "dynamic" accepts any reference into them
    "interpolationForAttribute": "dynamic",
}
CDKTF_MEMBERS = {
    "StringMap": ["map", "string"],
    "NumberMap": ["map", "number"],
    "BooleanMap": ["map", "bool"],
    "AnyMap": ["map", "dynamic"],
    "StringMapList": ["list", ["map", "string"]],
    "NumberMapList": ["list", ["map", "number"]],
    "BooleanMapList": ["list", ["map", "bool"]],
    "AnyMapList": ["list", ["map", "dynamic"]],
}


class SchemaError(ValueError):
    """The package does not have the shape this parser expects: the parser needs updating."""


@dataclass(frozen=True)
class Field:
    """A configurable property: its Terraform name and how cdktf writes it as HCL.

    cdktf's ``isBlock`` means "made of structs": a nested block, or an attribute whose values are
    objects (``x = [{...}]``, e.g. a nested attribute). cdktf maps the latter's lists without its
    block flag (``listMapperHcl(fn, false)``), and never has blocks of kind map; a single struct
    (kind ``struct``) can be either, which only the jsii documentation tells (see ``rebuild``)."""

    name: str
    property: str
    structs: bool  # cdktf's isBlock
    kind: str  # simple, list, set, map; for structs also struct (a single one)
    storage: str  # storageClassType: string, stringList, stringMap, ..., or a class name
    attribute_syntax: bool = False  # structs that cdktf maps as an attribute, not as blocks


@dataclass(frozen=True)
class Computed:
    """A computed-only attribute: a cty type, or objects described by another class's getters."""

    name: str
    type: object = None
    element: str | None = None  # the ComplexObject class whose computed getters make the object
    collection: str | None = None  # list or set of such objects; None for a single object


@dataclass
class Code:
    hcl: dict[str, dict[str, Field]] = field(default_factory=dict)
    computed: dict[str, list[Computed]] = field(default_factory=dict)
    base: dict[str, str] = field(default_factory=dict)
    resource_types: dict[str, str] = field(default_factory=dict)
    provider: tuple[str, str] | None = None  # (name, version) the code was generated from


def parse(sources) -> Code:
    """Read every generated JavaScript file of one package."""
    code = Code()
    for text in sources:
        for match in _HCL_FUNCTION.finditer(text):
            struct = match.group(1)[0].upper() + match.group(1)[1:]
            code.hcl[struct] = _hcl_fields(match.group(2))
        for match in _CLASS.finditer(text):
            name, base, body = match.groups()
            code.base[name] = base
            code.computed[name] = [_computed(name, m) for m in _COMPUTED.finditer(body)]
            synthesize = body.find("synthesizeHclAttributes() {")
            if synthesize >= 0:
                # a resource reads this._field, which may differ from the config property:
                # cdktf renames properties that clash with its own (build -> buildAttribute)
                renamed = dict(_CONFIG.findall(body))
                fields = _hcl_fields(body[synthesize:]).items()
                code.hcl[name] = {renamed.get(k, k): replace(fld, property=renamed.get(k, k))
                                  for k, fld in fields}
        code.resource_types.update(_RESOURCE_TYPE.findall(text))
        if code.provider is None and (generator := _GENERATOR.search(text)):
            code.provider = generator.groups()
    return code


def _hcl_fields(body: str) -> dict[str, Field]:
    """The attrs table of one ToHclTerraform function, by jsii property name."""
    fields = {}
    for name, value, is_block, kind, storage in _HCL_FIELD.findall(body):
        prop = _PROPERTY.search(value)
        if prop is None:
            raise SchemaError(f"cannot tell which property {name!r} is written from: {value}")
        objects = kind == "map" or _ATTRIBUTE_LIST.search(value) is not None
        fields[prop.group(1)] = Field(name, prop.group(1), is_block == "true", kind, storage,
                                      attribute_syntax=is_block == "true" and objects)
    return fields


def _computed(owner: str, match: re.Match) -> Computed:
    name, first, second = match.group(1), match.group(2).strip(), match.group(3).strip()
    if first.startswith("get "):
        getter = _GETTER.fullmatch(second)
        if getter is None or getter.group(2) not in GETTERS:
            raise SchemaError(f"{owner}.{name}: unknown getter {second!r}")
        cty = GETTERS[getter.group(2)]
        if getter.group(1):  # cdktf reads a set as a list: Fn.tolist(...)
            cty = ["set", cty[1]] if isinstance(cty, list) else ["set", cty]
        return Computed(name, type=cty)
    member = _MEMBER.fullmatch(first)
    if member is None:
        raise SchemaError(f"{owner}.{name}: unknown computed member {first!r}")
    qualified, wraps_set = member.group(1), member.group(3) == "true"
    cls = qualified.rsplit(".", 1)[-1]
    if qualified.startswith("cdktf."):
        if cls not in CDKTF_MEMBERS:
            raise SchemaError(f"{owner}.{name}: unknown cdktf member type {cls}")
        return Computed(name, type=CDKTF_MEMBERS[cls])
    if cls.endswith("List"):
        return Computed(name, element=cls[: -len("List")] + "OutputReference",
                        collection="set" if wraps_set else "list")
    if cls.endswith("OutputReference"):
        return Computed(name, element=cls)
    raise SchemaError(f"{owner}.{name}: unknown computed member type {qualified}")
