"""The entities the sandbox serves: wire field names (camelCase) and their kinds.

Field names follow reference/autotask/contract-entities.json (the vendor's swagger plus the newer
fields seen live, e.g. BillingItems.contractServiceID). The kind decides how a filter value or a
create body is parsed and how a value is rendered: `date` fields are midnight-only dates on the
wire ("YYYY-MM-DDT00:00:00"), `datetime` fields carry a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["int", "decimal", "str", "bool", "date", "datetime"]


def _fields(**by_kind: str) -> dict[str, FieldKind]:
    kinds: dict[str, FieldKind] = {"id": "int"}
    for kind, names in by_kind.items():
        for name in names.split():
            kinds[name] = kind  # type: ignore[assignment]
    return kinds


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: dict[str, FieldKind]
    can_query: bool
    can_create: bool

    def canonical_field(self, name: str) -> str | None:
        """Autotask matches field names case-insensitively."""
        return _LOWER_FIELDS[self.name].get(name.lower())


COMPANIES = EntitySpec(
    "Companies",
    _fields(
        int="apiVendorID billToCompanyLocationID billToAddressToUse billToCountryID classification "
        "companyType competitorID countryID createdByResourceID currencyID impersonatorCreatorResourceID "
        "invoiceEmailMessageID invoiceMethod invoiceTemplateID marketSegmentID ownerResourceID "
        "parentCompanyID quoteEmailMessageID quoteTemplateID taxRegionID territoryID companyCategoryID "
        "purchaseOrderTemplateID",
        decimal="assetValue surveyCompanyRating",
        bool="invoiceNonContractItemsToParentCompany isActive isClientPortalActive isEnabledForComanaged "
        "isTaskFireActive isTaxExempt",
        datetime="createDate lastActivityDate lastTrackedModifiedDateTime",
        str="additionalAddressInformation address1 address2 alternatePhone1 alternatePhone2 "
        "billToAdditionalAddressInformation billingAddress1 billingAddress2 billToAttention billToCity "
        "billToState billToZipCode city companyName companyNumber fax phone postalCode sicCode state "
        "stockMarket stockSymbol taxID webAddress",
    ),
    can_query=True,
    can_create=True,
)

CONTRACTS = EntitySpec(
    "Contracts",
    _fields(
        int="billingPreference billToCompanyContactID billToCompanyID companyID contactID contractCategory "
        "contractExclusionSetID contractPeriodType contractType exclusionContractID opportunityID "
        "organizationalLevelAssociationID renewedContractID serviceLevelAgreementID setupFeeBillingCodeID "
        "status timeReportingRequiresStartAndStopTimes",
        decimal="estimatedCost estimatedHours estimatedRevenue internalCurrencyOverageBillingRate "
        "internalCurrencySetupFee overageBillingRate setupFee",
        bool="isCompliant isDefaultContract",
        date="startDate endDate",
        datetime="lastModifiedDateTime",
        str="contactName contractName contractNumber description purchaseOrderNumber",
    ),
    can_query=True,
    can_create=True,
)

SERVICES = EntitySpec(
    "Services",
    _fields(
        int="billingCodeID creatorResourceID periodType serviceLevelAgreementID updateResourceID "
        "vendorCompanyID",
        decimal="markupRate unitCost unitPrice",
        bool="isActive",
        datetime="createDate lastModifiedDate",
        str="description invoiceDescription name catalogNumberPartNumber externalID internalID "
        "manufacturerServiceProvider manufacturerServiceProviderProductNumber sku url",
    ),
    can_query=True,
    can_create=True,
)

CONTRACT_SERVICES = EntitySpec(
    "ContractServices",
    _fields(
        int="contractID quoteItemID serviceID",
        decimal="internalCurrencyAdjustedPrice internalCurrencyUnitPrice unitCost unitPrice",
        str="internalDescription invoiceDescription",
    ),
    can_query=True,
    can_create=True,
)

CONTRACT_SERVICE_ADJUSTMENTS = EntitySpec(
    "ContractServiceAdjustments",
    _fields(
        int="contractID contractServiceID quoteItemID serviceID unitChange",
        decimal="adjustedUnitCost adjustedUnitPrice",
        bool="allowRepeatService",
        date="effectiveDate",
    ),
    can_query=False,  # create only, as the vendor: adjustments cannot be read back
    can_create=True,
)

CONTRACT_SERVICE_UNITS = EntitySpec(
    "ContractServiceUnits",
    _fields(
        int="contractID contractServiceID organizationalLevelAssociationID serviceID units vendorCompanyID",
        decimal="cost internalCurrencyPrice price",
        date="startDate endDate",
        datetime="approveAndPostDate",
    ),
    can_query=True,
    can_create=False,
)

BILLING_ITEMS = EntitySpec(
    "BillingItems",
    _fields(
        int="accountManagerWhenApprovedID billingCodeID billingItemType companyID configurationItemID "
        "contractChargeID contractID expenseItemID invoiceID itemApproverID lineItemID milestoneID "
        "nonBillable organizationalLevelAssociationID projectChargeID projectID roleID serviceBundleID "
        "serviceID subType taskID ticketChargeID ticketID timeEntryID vendorID contractBlockID "
        "contractServiceAdjustmentID contractServiceBundleAdjustmentID contractServiceBundleID "
        "contractServiceBundlePeriodID contractServiceID contractServicePeriodID sortOrderID",
        decimal="extendedPrice internalCurrencyExtendedPrice internalCurrencyRate internalCurrencyTaxDollars "
        "internalCurrencyTotalAmount ourCost quantity rate taxDollars totalAmount",
        date="itemDate",
        datetime="postedDate postedOnTime webServiceDate",
        str="description itemName lineItemFullDescription lineItemGroupDescription purchaseOrderNumber",
    ),
    can_query=True,
    can_create=False,
)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        COMPANIES,
        CONTRACTS,
        SERVICES,
        CONTRACT_SERVICES,
        CONTRACT_SERVICE_ADJUSTMENTS,
        CONTRACT_SERVICE_UNITS,
        BILLING_ITEMS,
    )
}
_LOWER_FIELDS: dict[str, dict[str, str]] = {
    name: {field.lower(): field for field in spec.fields} for name, spec in ENTITIES.items()
}
_LOWER_ENTITIES: dict[str, EntitySpec] = {name.lower(): spec for name, spec in ENTITIES.items()}


def entity_by_name(name: str) -> EntitySpec | None:
    """URL entity names are case-insensitive at the vendor."""
    return _LOWER_ENTITIES.get(name.lower())


#: Contracts.contractType picklist value of a recurring service contract.
RECURRING_SERVICE_CONTRACT = 7
#: Companies.companyType picklist value of a customer.
CUSTOMER_COMPANY = 1
