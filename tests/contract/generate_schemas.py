"""Derive the JSON Schemas the contract tests use from the vendor's Swagger 2.0 document.

    .venv/bin/python tests/contract/generate_schemas.py [path/to/autotask-rest-v1.swagger.json]

Steps, for each model the connector sends or reads:
1. take the PascalCase model from the swagger (`ContractServiceAdjustmentModel`);
2. rename every property to its wire name, first letter lower-cased (`ContractID` -> `contractID`),
   drop .NET plumbing (`SoapParentPropertyId`), type `UserDefinedFields` as [{name, value}];
3. map types: int32/int64 -> integer, double -> number, date-time -> a string pattern
   (Autotask writes "2026-03-01T00:00:00", no zone; date-only fields must be midnight);
4. tighten (the vendor document has no `required` at all): what Autotask really needs in what
   we send, what the connector relies on in what we read, `additionalProperties: false`;
5. add the fields the live API has and this document lacks (from contract-entities.json), each
   listed under "x-notInVendorDocument" so the gap stays visible;
6. wrap entities in the real envelopes ({"items", "pageDetails"}, {"item"}, {"itemId"}, ...),
   which the swagger shows as bare models.

The output under tests/contract/schemas/ is committed; test_autotask_schemas_are_current checks
it still matches this script's output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMA_DIR = HERE / "schemas"
REFERENCE = HERE.parents[1].parent / "shared" / "reference" / "autotask"
SWAGGER = REFERENCE / "autotask-rest-v1.swagger.json"
EXTRACT = REFERENCE / "contract-entities.json"

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
MIDNIGHT = r"^\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?Z?$"

ENTITY_MODELS = {
    "Companies": "CompanyModel",
    "Contracts": "ContractModel",
    "Services": "ServiceModel",
    "ContractServices": "ContractServiceModel",
    "ContractServiceUnits": "ContractServiceUnitModel",
    "ContractServiceAdjustments": "ContractServiceAdjustmentModel",
    "BillingItems": "BillingItemModel",
}

#: Date fields that are dates on the wire (midnight), not instants.
DATE_ONLY = {
    "Contracts": {"startDate", "endDate"},
    "ContractServiceUnits": {"startDate", "endDate"},
    "ContractServiceAdjustments": {"effectiveDate"},
}

#: Fields every answer row must carry, non-null, because the connector reads them.
READ_REQUIRED = {
    "Companies": ["id", "companyName"],
    "Contracts": ["id", "companyID", "contractName", "startDate", "endDate"],
    "Services": ["id", "name"],
    "ContractServices": ["id", "contractID", "serviceID"],
    "ContractServiceUnits": ["id", "contractServiceID", "startDate", "endDate", "units", "price", "cost"],
    "BillingItems": ["id"],
}

#: What a create must carry for Autotask to accept it (beyond the swagger, which says nothing).
CREATE_REQUIRED = {
    "ContractServiceAdjustments": ["contractID", "effectiveDate", "unitChange"],
    "ContractServices": ["contractID", "serviceID", "unitPrice"],
}
#: An adjustment names its contract service either directly or by service.
CREATE_ONE_OF = {"ContractServiceAdjustments": [["contractServiceID"], ["serviceID"]]}

#: Query operators the REST API documents in prose (the swagger types `op` as any string).
QUERY_OPS = [
    "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains",
    "exist", "notExist", "in", "notIn", "and", "or",
]  # fmt: skip

_PHP_TYPES = {"int": "integer", "float": "number", "string": "string", "bool": "boolean"}


def wire_name(swagger_name: str) -> str:
    """.NET camelCasing as Autotask's serialiser does it: the leading capitals are lower-cased,
    except the last one when a lower-case letter follows (ContractID -> contractID,
    SICCode -> sicCode, CI -> ci)."""
    chars = list(swagger_name)
    for i, char in enumerate(chars):
        if not char.isupper():
            break
        if i > 0 and i + 1 < len(chars) and not chars[i + 1].isupper():
            break
        chars[i] = char.lower()
    return "".join(chars)


def _property(entity: str, name: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    if name == "soapParentPropertyId":
        return None
    if name == "userDefinedFields":
        udf = {"type": "object", "properties": {"name": {"type": "string"}, "value": {}}}
        return {"type": "array", "items": udf}
    kind = spec.get("type")
    if kind == "string" and spec.get("format") == "date-time":
        pattern = MIDNIGHT if name in DATE_ONLY.get(entity, set()) else DATE_TIME
        return {"type": "string", "pattern": pattern}
    if kind in ("integer", "number", "string", "boolean"):
        return {"type": kind}
    raise ValueError(f"{entity}.{name}: no mapping for {spec}")


def entity_properties(swagger: dict[str, Any], extract: dict[str, Any], entity: str) -> dict[str, Any]:
    model = swagger["definitions"][ENTITY_MODELS[entity]]["properties"]
    properties: dict[str, Any] = {}
    for swagger_name, spec in model.items():
        prop = _property(entity, wire_name(swagger_name), spec)
        if prop is not None:
            properties[wire_name(swagger_name)] = prop
    info = extract["entities"][entity]
    # The extract lists the live wire names: the renaming above must agree with it.
    assert set(properties) - {"userDefinedFields"} == set(info["fields"]), entity
    live = dict.fromkeys(info.get("fieldsOnlyInZdc26zFork2025") or [], None)
    live.update(
        {k: v.get("phpType") for k, v in (info.get("fieldsSeenLiveButNotInThisSwagger") or {}).items()}
    )
    for name, php_type in sorted(live.items()):
        if name in properties:
            continue
        if name.endswith("DateTime") or name.endswith("Date"):
            prop = {"type": "string", "pattern": DATE_TIME}
        elif php_type in _PHP_TYPES:
            prop = {"type": _PHP_TYPES[php_type]}
        elif name.endswith("ID"):
            prop = {"type": "integer"}
        else:
            prop = {"type": "string"}
        properties[name] = {**prop, "x-notInVendorDocument": True}
    return properties


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    return {**prop, "type": [prop["type"], "null"]}


def read_entity(swagger: dict[str, Any], extract: dict[str, Any], entity: str) -> dict[str, Any]:
    required = READ_REQUIRED[entity]
    properties = {
        name: prop if name in required else _nullable(prop)
        for name, prop in entity_properties(swagger, extract, entity).items()
    }
    missing = [n for n in properties if properties[n].get("x-notInVendorDocument")]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "x-notInVendorDocument": missing,
    }


def create_request(swagger: dict[str, Any], extract: dict[str, Any], entity: str) -> dict[str, Any]:
    properties = entity_properties(swagger, extract, entity)
    properties.pop("id", None)
    properties.pop("userDefinedFields", None)
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": f"POST {entity} (create)",
        "type": "object",
        "properties": properties,
        "required": CREATE_REQUIRED[entity],
        "additionalProperties": False,
    }
    if entity in CREATE_ONE_OF:
        schema["anyOf"] = [{"required": names} for names in CREATE_ONE_OF[entity]]
    return schema


def query_request(swagger: dict[str, Any]) -> dict[str, Any]:
    model = swagger["definitions"]["QueryModel"]["properties"]
    assert {"MaxRecords", "IncludeFields", "Filter"} <= set(model), "the QueryModel changed"
    scalar = {"type": ["string", "integer", "number", "boolean", "null"]}
    condition = {
        "type": "object",
        "properties": {
            "op": {"enum": QUERY_OPS},
            "field": {"type": "string", "minLength": 1},
            "udf": {"type": "boolean"},
            # The swagger types `value` as a ValueItem object; the wire takes a plain value
            # (a list for in/notIn).
            "value": {"anyOf": [scalar, {"type": "array", "items": scalar}]},
            "items": {"type": "array", "items": {"$ref": "#/$defs/filter"}, "minItems": 1},
        },
        "required": ["op"],
        "additionalProperties": False,
        "oneOf": [
            {"properties": {"op": {"enum": ["and", "or"]}}, "required": ["items"]},
            {"properties": {"op": {"not": {"enum": ["and", "or"]}}}, "required": ["field"]},
        ],
    }
    return {
        "$schema": DRAFT,
        "title": "POST {Entity}/query and {Entity}/query/count",
        "type": "object",
        # Autotask's binder is case-insensitive; the vendor's own examples write "MaxRecords"
        # and "filter", which is what the connector sends.
        "properties": {
            "filter": {"type": "array", "items": {"$ref": "#/$defs/filter"}, "minItems": 1},
            "MaxRecords": {"type": "integer", "minimum": 1, "maximum": 500},
            "includeFields": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["filter"],
        "additionalProperties": False,
        "$defs": {"filter": condition},
    }


def query_response(entity_schema: dict[str, Any], entity: str) -> dict[str, Any]:
    url = {"type": ["string", "null"], "pattern": "^https?://"}
    return {
        "$schema": DRAFT,
        "title": f"{entity} query answer",
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/entity"}},
            "pageDetails": {
                "type": "object",
                "properties": {
                    "count": {"type": "integer", "minimum": 0},
                    "requestCount": {"type": "integer", "minimum": 0},
                    "prevPageUrl": url,
                    "nextPageUrl": url,
                },
                "required": ["count", "requestCount", "prevPageUrl", "nextPageUrl"],
                "additionalProperties": False,
            },
        },
        "required": ["items", "pageDetails"],
        "additionalProperties": False,
        "$defs": {"entity": entity_schema},
    }


def item_response(entity_schema: dict[str, Any], entity: str) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": f"{entity} get-by-id answer",
        "type": "object",
        "properties": {"item": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/entity"}]}},
        "required": ["item"],
        "additionalProperties": False,
        "$defs": {"entity": entity_schema},
    }


def _bare_model(swagger: dict[str, Any], model: str, title: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for swagger_name, spec in swagger["definitions"][model]["properties"].items():
        kind = spec["type"]
        properties[wire_name(swagger_name)] = {"type": kind}
    return {
        "$schema": DRAFT,
        "title": title,
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


def _one_property(title: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": title,
        "type": "object",
        "properties": {name: schema},
        "required": [name],
        "additionalProperties": False,
    }


def build(swagger: dict[str, Any], extract: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {"request.query.json": query_request(swagger)}
    for entity in ("ContractServiceAdjustments", "ContractServices"):
        schemas[f"request.create.{entity}.json"] = create_request(swagger, extract, entity)
    for entity in READ_REQUIRED:
        entity_schema = read_entity(swagger, extract, entity)
        schemas[f"response.query.{entity}.json"] = query_response(entity_schema, entity)
        schemas[f"response.item.{entity}.json"] = item_response(entity_schema, entity)
    assert "ItemId" in swagger["definitions"]["OperationResultModel"]["properties"]
    schemas["response.create.json"] = _one_property(
        "create answer (the swagger's OperationResultModel)", "itemId", {"type": "integer", "minimum": 1}
    )
    assert "QueryCount" in swagger["definitions"]["QueryCountResultModel"]["properties"]
    schemas["response.count.json"] = _one_property(
        "query/count answer (QueryCountResultModel)", "queryCount", {"type": "integer", "minimum": 0}
    )
    schemas["response.ThresholdInformation.json"] = _bare_model(
        swagger, "ThresholdStatusResultModel", "ThresholdInformation answer"
    )
    zone = _bare_model(swagger, "ZoneInformationResultModel", "zoneInformation answer")
    zone["properties"]["url"]["pattern"] = "^https?://.*/atservicesrest/?$"
    zone["required"] = ["url"]
    schemas["response.zoneInformation.json"] = zone
    schemas["response.errors.json"] = _one_property(
        "error answer (not in the swagger at all)",
        "errors",
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    )
    schemas["response.message.json"] = _one_property(
        "405 answer of ASP.NET's routing (not in the swagger at all)",
        "Message",
        {"type": "string", "minLength": 1},
    )
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


#: (METHOD, lower-cased path) of every operation the vendor documents, kept beside the schemas so
#: the checker needs no copy of the vendor's document at test time (CI has only the repository)
OPERATIONS = "vendor-operations.json"


def operations(swagger: dict[str, Any]) -> list[list[str]]:
    return sorted(
        [method.upper(), path.lower()] for path, item in swagger["paths"].items() for method in item
    )


def generate(swagger_path: Path = SWAGGER, extract_path: Path = EXTRACT) -> dict[str, str]:
    swagger = json.loads(swagger_path.read_text(encoding="utf-8"))
    extract = json.loads(extract_path.read_text(encoding="utf-8"))
    files = {name: render(schema) for name, schema in sorted(build(swagger, extract).items())}
    files[OPERATIONS] = json.dumps(operations(swagger), indent=0) + "\n"
    return dict(sorted(files.items()))


def main(argv: list[str]) -> int:
    swagger = Path(argv[1]) if len(argv) > 1 else SWAGGER
    SCHEMA_DIR.mkdir(exist_ok=True)
    for stale in SCHEMA_DIR.glob("*.json"):
        stale.unlink()
    for name, text in generate(swagger).items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_DIR.name}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
