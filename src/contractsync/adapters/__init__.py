"""Concrete adapters: database, Autotask REST client, clock, secrets, metrics."""
