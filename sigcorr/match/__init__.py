"""Normalized template matching, in three parts:

* :mod:`.scores`: ``match_template``, OpenCV's six scores (masks, missing
  pixels, template stacks);
* :mod:`.peaks`: ``Matches`` and ``find_matches``, with every peak rule
  (suppression, sub-pixel fits) that the searches and ``sigcorr.dask`` use;
* :mod:`.search`: ``locate``, its pyramid and its scale/angle search.
"""

from .peaks import Matches, find_matches
from .scores import match_template
from .search import locate

__all__ = ["match_template", "find_matches", "locate", "Matches"]
