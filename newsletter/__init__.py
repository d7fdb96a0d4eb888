"""newsletter: Markdown issues in, responsive emails, calendars and an archive out."""

__version__ = "0.1.0"
