"""The Autotask PSA REST connector."""
