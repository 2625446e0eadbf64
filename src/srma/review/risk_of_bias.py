"""Old import path of ``srma.review.appraise.risk_of_bias``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.appraise.risk_of_bias import (
    TOOLS,
    RobAssessment,
    RobTool,
    get_tool,
    read_rob,
)

__all__ = ["TOOLS", "RobAssessment", "RobTool", "get_tool", "read_rob"]
