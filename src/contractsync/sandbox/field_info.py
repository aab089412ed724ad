"""What `entityInformation/fields` answers, and what a create must carry.

Required flags are those of reference/autotask/contract-entities.json (`requiredPerLiveFieldInfo`,
taken from a client generated from the live `entityInformation/fields`). Picklist values differ
per tenant at the vendor; these are the sandbox's, chosen to match the ids the tests and the
demo use (7 = recurring service contract, 1 = customer, period types 1-4). Creates through the
API must carry every required field and a known picklist value; the admin seed routes fill
defaults instead, so test data stays short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contractsync.sandbox.entities import EntitySpec
from contractsync.sandbox.errors import UNEXPECTED_ERROR, SandboxError
from contractsync.sandbox.wire import Record

#: requiredPerLiveFieldInfo = true, per entity.
REQUIRED: dict[str, frozenset[str]] = {
    "Companies": frozenset({"companyName", "ownerResourceID", "phone"}),
    "Contracts": frozenset(
        {
            "companyID",
            "contractName",
            "contractType",
            "endDate",
            "startDate",
            "status",
            "timeReportingRequiresStartAndStopTimes",
        }
    ),
    "Services": frozenset({"billingCodeID", "name", "periodType", "unitPrice"}),
    "ContractServices": frozenset({"contractID", "serviceID"}),
    "ContractServiceAdjustments": frozenset({"effectiveDate"}),
    "ContractServiceUnits": frozenset({"contractID", "endDate", "serviceID", "startDate", "units"}),
    "BillingItems": frozenset(),
}


@dataclass(frozen=True)
class PickListValue:
    value: int
    label: str
    is_default: bool = False
    is_active: bool = True


def _picklist(default: int, *pairs: tuple[int, str]) -> tuple[PickListValue, ...]:
    return tuple(PickListValue(value, label, value == default) for value, label in pairs)


_PERIOD_TYPES = _picklist(1, (1, "Monthly"), (2, "Quarterly"), (3, "Semi-Annual"), (4, "Yearly"))

PICKLISTS: dict[str, dict[str, tuple[PickListValue, ...]]] = {
    "Companies": {
        "companyType": _picklist(
            1,
            (1, "Customer"),
            (2, "Lead"),
            (3, "Prospect"),
            (4, "Dead"),
            (6, "Cancellation"),
            (7, "Vendor"),
            (8, "Partner"),
        ),
    },
    "Contracts": {
        "contractType": _picklist(
            7,
            (1, "Time & Materials"),
            (3, "Fixed Price"),
            (4, "Block Hours"),
            (6, "Retainer"),
            (7, "Recurring Service"),
            (8, "Per Ticket"),
        ),
        "status": _picklist(1, (0, "Inactive"), (1, "Active")),
        "contractPeriodType": _PERIOD_TYPES,
        "timeReportingRequiresStartAndStopTimes": _picklist(0, (0, "No"), (1, "Yes")),
    },
    "Services": {"periodType": _PERIOD_TYPES},
}

#: Fields Autotask computes or sets itself.
READ_ONLY: dict[str, frozenset[str]] = {
    "Companies": frozenset({"createDate", "lastActivityDate", "lastTrackedModifiedDateTime"}),
    "Contracts": frozenset({"lastModifiedDateTime"}),
    "Services": frozenset({"createDate", "lastModifiedDate", "creatorResourceID", "updateResourceID"}),
    "ContractServices": frozenset({"internalCurrencyAdjustedPrice", "internalCurrencyUnitPrice"}),
}

#: referenceEntityType of the id fields the sandbox models (entity names, singular at the vendor).
REFERENCES = {
    "companyID": "Company",
    "parentCompanyID": "Company",
    "billToCompanyID": "Company",
    "contractID": "Contract",
    "serviceID": "Service",
    "contractServiceID": "ContractService",
    "ownerResourceID": "Resource",
    "billingCodeID": "BillingCode",
}

#: Lengths of the text fields a sandbox user types; other text fields answer 0 (unknown).
LENGTHS = {
    "companyName": 100,
    "contractName": 100,
    "name": 150,
    "phone": 25,
    "description": 2000,
    "invoiceDescription": 1000,
    "internalDescription": 100,
}


def is_read_only(spec: EntitySpec, field: str) -> bool:
    return field == "id" or field in READ_ONLY.get(spec.name, frozenset()) or not spec.can_create


def check_create(spec: EntitySpec, record: Record) -> None:
    """Refuse a create body without a required field or with an unknown picklist value
    (HTTP 500 `errors`) in the vendor's words (README, "Behaviours and where they come from"): a
    required picklist left out is answered as an unknown value; any other required field left
    out gets the vendor's unexpected error, which names no field (the stats count it as
    `required_field`)."""
    picklists = PICKLISTS.get(spec.name, {})
    for field in sorted(REQUIRED.get(spec.name, frozenset())):
        if record.get(field) in (None, ""):
            if field in picklists:
                raise SandboxError(unknown_picklist_value(field), reason="picklist_value")
            raise SandboxError(UNEXPECTED_ERROR, reason="required_field")
    check_picklists(spec, record)


def unknown_picklist_value(field: str) -> str:
    """The vendor's words for a picklist value it does not know, or one left out (its spacing
    too: "for taskType . ")."""
    return f"Value does not reference an existing entity for {field} . "


def check_picklists(spec: EntitySpec, record: Record) -> None:
    for field, values in PICKLISTS.get(spec.name, {}).items():
        value = record.get(field)
        if value is not None and value not in {item.value for item in values if item.is_active}:
            raise SandboxError(unknown_picklist_value(field), reason="picklist_value")


def field_definitions(spec: EntitySpec, data_types: dict[str, str]) -> list[dict[str, Any]]:
    """The `fields` of GET /{Entity}/entityInformation/fields."""
    picklists = PICKLISTS.get(spec.name, {})
    required = REQUIRED.get(spec.name, frozenset())
    definitions = []
    for name, kind in spec.fields.items():
        values = picklists.get(name)
        definitions.append(
            {
                "name": name,
                "dataType": data_types[kind],
                "length": LENGTHS.get(name, 0) if kind == "str" else 0,
                "isRequired": name in required,
                "isReadOnly": is_read_only(spec, name),
                "isQueryable": spec.can_query,
                "isReference": name in REFERENCES,
                "referenceEntityType": REFERENCES.get(name, ""),
                "isPickList": values is not None,
                "picklistValues": None
                if values is None
                else [
                    {
                        "value": str(item.value),
                        "label": item.label,
                        "isDefaultValue": item.is_default,
                        "sortOrder": order,
                        "parentValue": "",
                        "isActive": item.is_active,
                        "isSystem": True,
                    }
                    for order, item in enumerate(values, start=1)
                ],
                "picklistParentValueField": "",
                "isSupportedWebhookField": False,
            }
        )
    return definitions
