"""gridcore's built-in assessment plugin (import name ``gridcore_assessment``)."""
