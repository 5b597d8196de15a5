"""The rules language (work in progress: see docs/architecture.md)."""
