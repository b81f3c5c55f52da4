"""Binary cruxes: what forecasting groups measure when people disagree (docs/model.md, "Binary cruxes").

- :mod:`.metrics`: value of information and of discrimination of one binary crux (FRI);
- :mod:`.pools`: the linear pool, the geometric mean of odds and its extremized form;
- :mod:`.table`: reading and checking a survey table (CSV or DataFrame);
- :mod:`.survey`: the metrics of every crux of a survey, as medians per camp and over pairs.
"""

from model.analyses.cruxes.survey import NO_CAMP, CruxScore, LeftOut, SurveyScores, score
from model.analyses.cruxes.table import Answer, Survey, read_survey

__all__ = ["NO_CAMP", "Answer", "CruxScore", "LeftOut", "Survey", "SurveyScores", "read_survey", "score"]
