"""Ports: the Protocols the use cases and the worker depend on, and the neutral values they pass.

Standard library and `contractsync.domain` only. Adapters implement them (`adapters/db` in SQL,
`adapters/memory` in dictionaries for tests); one module per aggregate.
"""
