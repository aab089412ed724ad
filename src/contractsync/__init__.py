"""contractsync: keeps Autotask recurring-contract billing in step with Microsoft CSP subscriptions."""

__version__ = "0.1.0"
