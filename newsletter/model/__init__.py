"""The domain model: plain frozen dataclasses, standard library only.

Nothing here knows Markdown, MJML, SMTP or Click; parsers build these objects and renderers read them.
"""

from newsletter.model.issue import Issue, RubricSection
from newsletter.model.rubric import Rubric

__all__ = ["Issue", "Rubric", "RubricSection"]
