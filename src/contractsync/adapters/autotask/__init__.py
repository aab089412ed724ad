"""The Autotask PSA REST connector."""

from contractsync.adapters.autotask.client import AutotaskClient, ClientSettings, Credentials
from contractsync.adapters.autotask.connector import AutotaskConnector
from contractsync.adapters.autotask.limits import (
    BudgetUsage,
    EndpointConcurrency,
    RequestBudget,
    RollingWindowBudget,
)
from contractsync.adapters.autotask.models import Company, Contract, ContractService, Service, Threshold
from contractsync.adapters.autotask.outbound import OutboundPolicy, OutboundRefused
from contractsync.adapters.autotask.redaction import ExchangeRecord

__all__ = [
    "AutotaskClient",
    "AutotaskConnector",
    "BudgetUsage",
    "ClientSettings",
    "Company",
    "Contract",
    "ContractService",
    "Credentials",
    "EndpointConcurrency",
    "ExchangeRecord",
    "OutboundPolicy",
    "OutboundRefused",
    "RequestBudget",
    "RollingWindowBudget",
    "Service",
    "Threshold",
]
