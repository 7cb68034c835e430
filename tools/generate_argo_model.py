#!/usr/bin/env python3
"""Generate ``workflows/validation/argo_model.json`` from Argo Workflows' official JSON schemas.

The official schema (``api/jsonschema/schema.json`` of argoproj/argo-workflows,
Apache-2.0) has no ``additionalProperties: false`` and types IntOrString and
Quantity as plain strings, so it lets typos through.  This tool reduces it to
the compact model that :mod:`workflows.validation.structure` walks: for every
definition reachable from Workflow, WorkflowTemplate, ClusterWorkflowTemplate
and CronWorkflow, its properties with their types and its required fields.

Several schema versions are merged: a property known in any version is
accepted, a field is required only when every version requires it.

Type expressions in the model:

* ``string``, ``integer``, ``number``, ``boolean``;
* ``int-or-string`` (Kubernetes IntOrString), ``quantity`` (Kubernetes Quantity);
* ``object`` (a free-form object, not walked), ``any`` (any JSON value);
* ``@Name`` (an object described by ``definitions[Name]``);
* ``[]T`` (an array of T), ``{}T`` (a map of string to T).

From the same model it writes ``workflows/argo_types.py``: a ``TypedDict`` per definition, so that type
checkers know Argo's key names (nothing imports it at run time).

Usage: ``python tools/generate_argo_model.py [--shared ../shared/argo] [--output PATH] [--types PATH]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
#: Schema versions merged into the model, oldest first.
SCHEMA_VERSIONS = ("v3.7.18", "v4.1.2")
DEFAULT_SHARED = REPOSITORY.parent / "shared" / "argo"
DEFAULT_OUTPUT = REPOSITORY / "workflows" / "validation" / "argo_model.json"
DEFAULT_TYPES = REPOSITORY / "workflows" / "argo_types.py"
#: Python types of the model's scalar and free-form type names.
PYTHON_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "int-or-string": "Union[int, str]",
    "quantity": "Union[int, float, str]",
    "object": "Dict[str, Any]",
    "any": "Any",
}

ARGO = "io.argoproj.workflow.v1alpha1."
ROOT_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
#: Prefixes dropped from definition names to make them short and still unique.
NAME_PREFIXES = (ARGO, "io.k8s.api.", "io.k8s.apimachinery.pkg.apis.", "io.k8s.apimachinery.pkg.")
#: Definitions whose schema type is a lie: Kubernetes and Argo decode them specially.
SPECIAL_DEFINITIONS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
}
#: Properties typed ``string`` in the schema that Argo decodes as ``AnyString``: numbers
#: and booleans become strings and any other JSON value is silently dropped.
ANY_STRING_PROPERTIES = {
    (ARGO + "Parameter", "value"),
    (ARGO + "Parameter", "default"),
    (ARGO + "Parameter", "enum"),
    (ARGO + "ValueFrom", "default"),
}
#: Fields the schema lists as required but Argo accepts without.
NOT_REQUIRED = {
    # Both may come from spec.templateDefaults (validate.go checks the merged result).
    ("io.k8s.api.core.v1.Container", "image"),
    (ARGO + "ScriptTemplate", "image"),
    # A script's source may be empty (the command then does all the work).
    (ARGO + "ScriptTemplate", "source"),
}
SCALARS = frozenset({"string", "integer", "number", "boolean"})


def short_name(definition: str) -> str:
    """Return the model's name for the schema definition ``definition``."""
    for prefix in NAME_PREFIXES:
        if definition.startswith(prefix):
            return definition[len(prefix) :]
    return definition


def _split(kind: str) -> tuple[str, str]:
    """Split a type expression into its ``[]``/``{}`` wrappers and the type they wrap."""
    target = kind.lstrip("[]{}")
    return kind[: len(kind) - len(target)], target


def _any_string(kind: str) -> str:
    """Return ``kind`` (``string`` or ``[]string``) with its strings decoded as AnyString."""
    wrappers, target = _split(kind)
    if target != "string":
        raise ValueError(f"AnyString property typed {kind!r}: update ANY_STRING_PROPERTIES")
    return wrappers + "any"


def _reference(schema: Mapping) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


class _Reducer:
    """Reduce one schema version's definitions to type expressions."""

    def __init__(self, definitions: Mapping[str, Mapping]) -> None:
        self.definitions = definitions
        self.objects: dict[str, dict] = {}

    def type_of(self, schema: Mapping) -> str:
        """Return the type expression of the property or definition ``schema``."""
        name = _reference(schema)
        if name:
            return self._definition_type(name)
        if schema.get("x-kubernetes-int-or-string"):
            return "int-or-string"
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return "any"
        kind = schema.get("type")
        if kind == "array":
            return "[]" + self.type_of(schema.get("items", {}))
        if kind == "object" or "additionalProperties" in schema:
            extra = schema.get("additionalProperties")
            if isinstance(extra, Mapping) and extra and "properties" not in schema:
                return "{}" + self.type_of(extra)
            return "object"
        if kind is None:
            return "any"
        if kind not in SCALARS:
            raise ValueError(f"unsupported schema type {kind!r}")
        return kind

    def _definition_type(self, name: str) -> str:
        if name in SPECIAL_DEFINITIONS:
            return SPECIAL_DEFINITIONS[name]
        schema = self.definitions[name]
        if schema.get("type", "object") != "object" or "properties" not in schema:
            return self.type_of(schema)  # a scalar, array or free-form definition: inlined
        if name not in self.objects:
            self.objects[name] = {}  # placeholder first: definitions are recursive
            properties = {prop: self.type_of(sub) for prop, sub in schema["properties"].items()}
            for prop, kind in properties.items():
                if (name, prop) in ANY_STRING_PROPERTIES:
                    properties[prop] = _any_string(kind)
            required = set(schema.get("required", ()))
            self.objects[name] = {
                "properties": properties,
                "required": {field for field in required if (name, field) not in NOT_REQUIRED},
            }
        return "@" + name


class _Merger:
    """Merge the reduced definitions of several schema versions."""

    def __init__(self, per_version: list[dict[str, dict]]) -> None:
        self.per_version = per_version
        self.merged: dict[str, dict] = {}

    def definition(self, name: str) -> dict:
        """Return the merged definition ``name`` (``A|B`` merges definitions ``A`` and ``B``)."""
        if name not in self.merged:
            parts = name.split("|")
            if len(parts) > 1:
                objects = [self.definition(part) for part in parts]
            else:
                objects = [objects[name] for objects in self.per_version if name in objects]
            self.merged[name] = objects[0]  # placeholder first: definitions are recursive
            self.merged[name] = self._merge_objects(name, objects)
        return self.merged[name]

    def _merge_objects(self, where: str, objects: list[dict]) -> dict:
        """Union of the properties, intersection of the required fields."""
        properties: dict[str, str] = {}
        for obj in objects:
            for prop, kind in obj["properties"].items():
                known = properties.get(prop)
                properties[prop] = kind if known is None else self._merge_types(f"{where}.{prop}", known, kind)
        required = set.intersection(*(set(obj["required"]) for obj in objects))
        return {"properties": properties, "required": required}

    def _merge_types(self, where: str, left: str, right: str) -> str:
        """Merge the type expressions one property has in two schema versions."""
        if left == right:
            return left
        for wrapper in ("[]", "{}"):
            if left.startswith(wrapper) and right.startswith(wrapper):
                return wrapper + self._merge_types(where, left[2:], right[2:])
        if left.startswith("@") and right.startswith("@"):
            name = "|".join(sorted({*left[1:].split("|"), *right[1:].split("|")}))
            self.definition(name)
            return "@" + name
        raise ValueError(f"{where}: the schema versions disagree ({left} vs {right}); decide how to merge them here")


def _reachable(roots: Iterable[str], definitions: Mapping[str, dict]) -> list[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for kind in definitions[name]["properties"].values():
            target = _split(kind)[1]
            if target.startswith("@"):
                stack.append(target[1:])
    return sorted(seen)


def build_model(schemas: Mapping[str, Mapping]) -> dict:
    """Return the model of the Argo schemas ``schemas`` (version → parsed schema.json)."""
    per_version: list[dict[str, dict]] = []
    for schema in schemas.values():
        reducer = _Reducer(schema["definitions"])
        for kind in ROOT_KINDS:
            reducer.type_of({"$ref": f"#/definitions/{ARGO}{kind}"})
        per_version.append(reducer.objects)
    merger = _Merger(per_version)
    for name in sorted(set().union(*per_version)):
        merger.definition(name)
    merged = merger.merged
    reachable = _reachable((ARGO + kind for kind in ROOT_KINDS), merged)
    rename = {name: short_name(name) for name in merged}
    rename.update({name: "|".join(short_name(part) for part in name.split("|")) for name in merged if "|" in name})
    if len(set(rename.values())) != len(rename):
        raise ValueError("short definition names collide; extend NAME_PREFIXES")

    def renamed(kind: str) -> str:
        wrappers, target = _split(kind)
        return wrappers + ("@" + rename[target[1:]] if target.startswith("@") else target)

    return {
        "about": (
            "Generated by tools/generate_argo_model.py from the official JSON schema of Argo Workflows "
            f"{' and '.join(schemas)} (argoproj/argo-workflows, api/jsonschema/schema.json, Apache-2.0). "
            "Do not edit: regenerate."
        ),
        "schemas": list(schemas),
        "roots": {kind: rename[ARGO + kind] for kind in ROOT_KINDS},
        "definitions": {
            rename[name]: {
                "properties": {prop: renamed(kind) for prop, kind in sorted(merged[name]["properties"].items())},
                "required": sorted(merged[name]["required"]),
            }
            for name in reachable
        },
    }


def render(model: Mapping) -> str:
    """Return ``model`` as the committed file's text: compact JSON, one definition per line."""
    head = {key: model[key] for key in ("about", "schemas", "roots")}
    lines = [json.dumps(head, separators=(",", ":"))[:-1] + ',"definitions":{']
    entries = [
        json.dumps(name) + ":" + json.dumps(definition, separators=(",", ":"), sort_keys=True)
        for name, definition in sorted(model["definitions"].items())
    ]
    lines.append(",\n".join(entries))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def type_name(definition: str) -> str:
    """The Python name of a model definition: ``Template``, ``core.v1.Container`` -> ``CoreV1Container``
    (every character that cannot be in a name separates parts, such as the ``|`` of merged definitions)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", definition))


def python_type(kind: str) -> str:
    """The Python annotation of a model type expression (``[]@Parameter`` -> ``List[Parameter]``)."""
    if kind.startswith("[]"):
        return f"List[{python_type(kind[2:])}]"
    if kind.startswith("{}"):
        return f"Dict[str, {python_type(kind[2:])}]"
    if kind.startswith("@"):
        return type_name(kind[1:])
    return PYTHON_SCALARS[kind]


def render_types(model: Mapping) -> str:
    """Return the text of ``workflows/argo_types.py``: one ``TypedDict`` (``total=False``) per definition.

    The functional syntax keeps keys that are not identifiers (``from``); annotations are strings, so the
    definitions may refer to each other in any order.
    """
    names = {name: type_name(name) for name in model["definitions"]}
    if len(set(names.values())) != len(names):
        raise SystemExit("two model definitions map to the same Python name")
    lines = [
        '"""Typed views of Argo\'s objects, for type checkers: one ``TypedDict`` per definition of',
        "``validation/argo_model.json`` (every key optional; the required ones are listed above each).",
        "",
        "Generated by ``tools/generate_argo_model.py`` -- do not edit. Import it under ``TYPE_CHECKING``:",
        "the package never loads it at run time.",
        '"""',
        "",
        "from typing import Any, Dict, List, TypedDict, Union",
        "",
    ]
    for name, definition in sorted(model["definitions"].items()):
        fields = ", ".join(f"{json.dumps(key)}: {json.dumps(python_type(kind))}"
                           for key, kind in sorted(definition["properties"].items()))
        lines.append("")
        if definition["required"]:
            lines.append(f"# required: {', '.join(sorted(definition['required']))}")
        lines.append(f"{names[name]} = TypedDict({json.dumps(names[name])}, {{{fields}}}, total=False)")
    return "\n".join(lines) + "\n"


def load_schemas(shared: Path) -> dict[str, dict]:
    """Read ``shared/<version>/schema.json`` for every version in :data:`SCHEMA_VERSIONS`."""
    return {version: json.loads((shared / version / "schema.json").read_text()) for version in SCHEMA_VERSIONS}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write the model file, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding <version>/schema.json")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="model file to write")
    parser.add_argument("--types", type=Path, default=DEFAULT_TYPES, help="typed views (Python) to write")
    args = parser.parse_args(argv)
    model = build_model(load_schemas(args.shared))
    text = render(model)
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text.encode())} bytes)")
    types = render_types(model)
    args.types.write_text(types)
    print(f"wrote {args.types} ({len(types.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
