"""Hook implementations of the escalation plugin (registered through the ``gridcore`` entry point group)."""
