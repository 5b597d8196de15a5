"""gridcore's built-in escalation plugin (import name ``gridcore_escalation``)."""
