"""gridcore_app: the application beside the engine.

The command line (``gridcore``), the demo and the simulator with its
scenarios, the what-if replay, ruleset test cases, and the roster file
formats.  It imports the core (``gridcore``) and the plugins' public
modules; the core imports nothing from here.
"""
