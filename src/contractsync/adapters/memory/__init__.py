"""The ports in dictionaries: a unit of work without a database, for use-case tests and tools."""
