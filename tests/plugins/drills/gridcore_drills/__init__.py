"""gridcore-drills: fire and evacuation drills (消防演练) in a community's cells.

A third-party plugin written from gridcore's plugin guide.  It brings:

* an event, ``drill_held`` (``gridcore_drills.events.DrillHeld``): a drill was
  held in a cell, with how many people took part;
* a ruleset section, ``drills`` / ``消防演练``: which drills each cell at a level
  must hold how often, with how many people at least;
* a metric, ``drill_coverage`` (演练完成率): the share of the required drills
  held in a node's subtree over a period, for the assessment plugin or anyone;
* a report, ``drills.held``, and a command, ``gridcore drills list``;
* routes in ``gridcore serve``: ``GET /drills/held?period=`` (the drills held)
  and ``POST /drills/held`` (a drill recorded as the API token's member).
"""
