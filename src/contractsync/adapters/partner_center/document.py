"""A Partner Center file → `PartnerCenterDocument`: what it is, its records, and what failed.

A file is one resource (a Subscription, a Transition, a legacy UpgradeResult), a collection of
them (`{"totalCount", "items": […]}`, a bare JSON array, or the `{"transition": […]}` history), or
a Partner Center object that carries no subscription state (cart, order, webhook event, usage
records, entitlements, eligibilities, promotions), which is recognised and ignored with a reason.
A file that is not JSON, or JSON that is none of these, raises `PartnerCenterFormatError`; a bad
record inside a collection becomes an error of that record and the others are still read.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from contractsync.adapters.partner_center.subscription import parse_subscription
from contractsync.adapters.partner_center.transition import parse_transition, parse_upgrade_result
from contractsync.adapters.partner_center.values import Fields, lower_keys, token
from contractsync.ports.partner_center_documents import (
    DocumentKind,
    PartnerCenterDocument,
    PartnerCenterFormatError,
    PartnerCenterSubscription,
    PartnerCenterTransition,
)

WHOLE = "document"
MAX_BYTES = 50_000_000  # a customer's subscriptions are kilobytes; refuse to slurp something else

Parser = Callable[[Fields], PartnerCenterSubscription | PartnerCenterTransition]

#: objectType → why such an object is not imported (it carries no subscription state)
IGNORED: dict[str, str] = {
    "cart": "a cart is a purchase not made yet; import the subscriptions its checkout creates",
    "order": "an order is a purchase request; import the subscriptions it created",
    "subscriptionmonthlyusagerecord": "usage records carry consumption, not subscription state",
    "azureentitlement": "Azure entitlements live under an Azure plan; import the plan subscription itself",
    "transitioneligibility": "eligibilities say which transitions could be made, not which were made",
    "upgrade": "upgrade offers say which upgrades could be made, not which were made",
    "productpromotion": "promotions are catalogue data, not subscription state",
    "webhookevent": "a webhook event names a change but carries no state; fetch the subscription and import it",
}


def read_document(path: Path) -> PartnerCenterDocument:
    """Read a file; unreadable, empty or non-JSON files raise `PartnerCenterFormatError`."""
    source = path.name
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PartnerCenterFormatError(source, WHOLE, None, f"is larger than {MAX_BYTES} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise PartnerCenterFormatError(source, WHOLE, None, f"cannot be read: {error.strerror}") from None
    return parse_document(data, source)


def parse_document(data: bytes | str, source: str) -> PartnerCenterDocument:
    parsed = _load_json(data, source)
    # Keys are lower-cased per record (in `_add`), so a bad record fails alone; here only the top.
    root = _shallow(parsed, source)
    if isinstance(root, list):
        return _collection(root, source, "Collection", "")
    if not isinstance(root, dict):
        raise PartnerCenterFormatError(source, WHOLE, None, "is JSON but not an object or a list")
    object_type = _object_type(root)
    if isinstance(root.get("items"), list):
        return _collection(root["items"], source, object_type or "Collection", "items")
    if isinstance(root.get("transition"), list):  # GET /transitions wraps its list this way
        return _collection(root["transition"], source, object_type or "Collection", "transition")
    kind, parser_or_reason = _classify(root)
    if parser_or_reason is None:
        raise PartnerCenterFormatError(
            source,
            WHOLE,
            None,
            "is not a Partner Center subscription, collection, transition or upgrade result",
        )
    document = PartnerCenterDocument(source, DocumentKind.IGNORED, kind)
    if isinstance(parser_or_reason, str):
        document.ignored_reason = parser_or_reason
        return document
    document.kind = _add(document, parser_or_reason, parsed, WHOLE)
    return document


def _shallow(value: Any, source: str) -> Any:
    """The top-level object with lower-cased keys (to find `items`, `attributes`, …); lists as they are."""
    if not isinstance(value, dict):
        return value
    keys = [key.lower() for key in value]
    for wrapper in ("items", "transition"):
        if keys.count(wrapper) > 1:
            raise PartnerCenterFormatError(source, WHOLE, wrapper, "appears twice with different letter case")
    # Other duplicates are reported with the record they belong to (see `lower_keys`).
    return {key.lower(): item for key, item in value.items()}


def _load_json(data: bytes | str, source: str) -> Any:
    if isinstance(data, bytes):
        data = _decode(data, source)
    data = data.lstrip("\ufeff")  # a BOM that survived decoding (or came in a str)
    if not data.strip():
        raise PartnerCenterFormatError(source, WHOLE, None, "is empty")
    try:
        # Decimals, never floats: Partner Center prices must not lose digits on the way in.
        return json.loads(data, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise PartnerCenterFormatError(
            source,
            WHOLE,
            None,
            f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
        ) from None


def _decode(data: bytes, source: str) -> str:
    # PowerShell exports are often UTF-16 with a BOM; the recorded sessions are UTF-8 with a BOM.
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise PartnerCenterFormatError(source, WHOLE, None, f"is not {encoding.upper()} text") from None


def _object_type(obj: Mapping[str, Any]) -> str | None:
    attributes = obj.get("attributes")
    if not isinstance(attributes, Mapping):
        return None
    value = next((v for k, v in attributes.items() if k.lower() == "objecttype"), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _classify(obj: Mapping[str, Any]) -> tuple[str, Parser | str | None]:
    """(object type, its parser or the reason it is ignored; None: not a Partner Center object)."""
    declared = _object_type(obj)
    name = token(declared) if declared else _shape(obj)
    if name == "subscription":
        return declared or "Subscription", parse_subscription
    if name == "transition":
        return declared or "Transition", parse_transition
    if name == "upgraderesult":
        return declared or "UpgradeResult", parse_upgrade_result
    if name in IGNORED:
        return declared or name, IGNORED[name]
    return declared or "unknown", None


def _shape(obj: Mapping[str, Any]) -> str:
    """What an object without `attributes.objectType` is, from the fields only it has."""
    keys = set(obj)
    if {"id", "offerid", "quantity", "status"} <= keys:
        return "subscription"
    if keys & {"fromsubscriptionid", "fromcatalogitemid"}:
        return "transition"
    if {"sourcesubscriptionid", "targetsubscriptionid"} <= keys:
        return "upgraderesult"
    if {"eventname", "resourceuri"} <= keys:
        return "webhookevent"
    if {"id", "subscriptionid"} <= keys and "offerid" not in keys:
        return "azureentitlement"
    if "requiredproducts" in keys:
        return "productpromotion"
    if "eligibilities" in keys:
        return "transitioneligibility"
    if "targetoffer" in keys:
        return "upgrade"
    return "unknown"


def _collection(items: list[Any], source: str, object_type: str, label: str) -> PartnerCenterDocument:
    document = PartnerCenterDocument(source, DocumentKind.IGNORED, object_type)
    reasons: list[str] = []
    kinds: set[DocumentKind] = set()
    for index, item in enumerate(items):
        record = f"{label}[{index}]"
        if not isinstance(item, dict):
            document.errors.append(PartnerCenterFormatError(source, record, None, "is not a JSON object"))
            continue
        _, parser_or_reason = _classify({key.lower(): value for key, value in item.items()})
        if parser_or_reason is None:
            document.errors.append(
                PartnerCenterFormatError(source, record, None, "is not a subscription or a transition")
            )
        elif isinstance(parser_or_reason, str):
            reasons.append(parser_or_reason)
        else:
            kinds.add(_add(document, parser_or_reason, item, record))
    if kinds == {DocumentKind.TRANSITIONS}:
        document.kind = DocumentKind.TRANSITIONS
    elif kinds or document.errors or not reasons:
        document.kind = DocumentKind.SUBSCRIPTIONS  # an empty collection: a customer with none
    else:
        document.ignored_reason = reasons[0]
    return document


def _add(document: PartnerCenterDocument, parser: Parser, raw: Any, record: str) -> DocumentKind:
    """Parse one record into the document (or its errors); answers what kind of record it is."""
    kind = DocumentKind.SUBSCRIPTIONS if parser is parse_subscription else DocumentKind.TRANSITIONS
    try:
        parsed = parser(Fields(lower_keys(raw, document.source, record), document.source, record))
    except PartnerCenterFormatError as error:
        document.errors.append(error)
        return kind
    if isinstance(parsed, PartnerCenterSubscription):
        document.subscriptions.append(parsed)
    else:
        document.transitions.append(parsed)
    return kind
