"""Test helpers shared by several suites (a pytest plugin and plain modules)."""
