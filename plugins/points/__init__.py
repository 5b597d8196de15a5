"""gridcore's built-in points plugin (import name ``gridcore_points``)."""
