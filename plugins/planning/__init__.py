"""gridcore's built-in planning plugin (import name ``gridcore_planning``).

Grid planning (网格规划): a grid is planned by households (户) and people;
Yinzhou sizes a grid at about 300 households and 1,000 people.  The
``planning`` / ``网格规划`` section says how big the cells of a level should be
(``size grid: 300 households, 1000 people, within 50%``); ``gridcore check``
and ``Engine.use_ruleset`` warn about the cells of the community that are far
off, and the ``planning.sizes`` report lists every planned cell against the
plan.  See docs/community.md, *Grid planning*.
"""
