"""The pipeline config's JSON Schema (workflow/schemas/config.schema.yaml), completed from the config
dataclasses: a section of neft options there (train, eval, execution) names its dataclass and keys
(`options_of: {config: TrainConfig, keys: [...]}`), and each key's type, limits, default and description
are those of the field (config.opt), so they have one source; the names of models, datasets and methods are
the catalogue's (neft/catalogue.py). `validate` checks a config against it and
fills in every default. Importing this module imports no torch."""

import copy
import dataclasses
import typing
from pathlib import Path

from . import catalogue, yamlfile
from .config import EvalConfig, TrainConfig, field_type

CONFIGS = {"TrainConfig": TrainConfig, "EvalConfig": EvalConfig}
TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}
LIMITS = {"minimum": "minimum", "maximum": "maximum", "above": "exclusiveMinimum", "choices": "enum"}


def field_schema(f: dataclasses.Field) -> dict:
    """The JSON Schema of one config field: its type, limits, default and help text."""
    tp, optional = field_type(f)
    limits = {LIMITS[k]: list(v) if k == "choices" else v for k, v in f.metadata.items() if k in LIMITS}
    limits |= {"pattern": f"^({f.metadata['pattern']})$"} if "pattern" in f.metadata else {}
    if typing.get_origin(tp) is list:
        out = {"type": "array", "items": {"type": "number", **limits}}
        out |= {"minItems": f.metadata["min_items"]} if "min_items" in f.metadata else {}
        out |= {"uniqueItems": True} if f.metadata.get("unique") else {}
    elif "registry" in f.metadata:
        out = {"$ref": f"#/$defs/{f.metadata['registry']}"}
    else:
        out = {"type": [TYPES[tp], "null"] if optional else TYPES[tp], **limits}
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    return {**out, "default": default, "description": f.metadata["help"]}


def names_of(kind: str) -> list[str]:
    """The names the catalogue holds of a kind (models, datasets, methods, nft_methods, noisy_methods), in its order."""
    kinds = dict(
        models=list(catalogue.MODELS),
        datasets=list(catalogue.DATASETS),
        methods=list(catalogue.METHODS),
        nft_methods=list(catalogue.nft_methods()),
        noisy_methods=list(catalogue.noisy_methods()),
    )
    return kinds[kind]


def expand(schema):
    """`schema` with each `options_of` replaced by the properties it names, each `names_of` by an enum of the
    catalogue's names, and each `properties_of` by one property per name (a copy of its `each`)."""
    if isinstance(schema, list):
        return [expand(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    per_name, options = schema.get("properties_of"), schema.get("options_of")
    schema = {key: expand(value) for key, value in schema.items() if key not in ("properties_of", "options_of")}
    if "names_of" in schema:
        schema["enum"] = sorted(names_of(schema.pop("names_of")))
    if per_name:
        schema["properties"] = {name: expand(per_name["each"]) for name in names_of(per_name["names_of"])}
    if options:
        fields = {f.name: f for f in dataclasses.fields(CONFIGS[options["config"]])}
        schema["properties"] = {**{k: field_schema(fields[k]) for k in options["keys"]}, **schema.get("properties", {})}
    return schema


def load(path: str | Path) -> dict:
    return expand(yamlfile.read(path))


def validate(values: dict, schema: dict) -> dict:
    """`values` checked against `schema` (jsonschema.ValidationError: the first problem), with every default
    the schema gives filled in, nested sections too."""
    from jsonschema import Draft202012Validator, validators

    def fill_defaults(validator, properties, instance, subschema):
        for key, sub in properties.items():
            if "default" in sub and isinstance(instance, dict):
                instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, subschema)

    validators.extend(Draft202012Validator, {"properties": fill_defaults})(schema).validate(values)
    return values
