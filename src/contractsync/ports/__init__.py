"""Ports: the Protocols and neutral records the use cases and the worker need from the outside
world (a PSA, the database). Standard library and `contractsync.domain` imports only; the
adapters implement them, the composition root (`bootstrap.py`) wires them."""
