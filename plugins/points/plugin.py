"""Hook implementations of the points plugin (registered through the ``gridcore`` entry point group)."""
