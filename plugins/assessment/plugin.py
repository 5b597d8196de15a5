"""Hook implementations of the assessment plugin (registered through the ``gridcore`` entry point group)."""
