"""takedowns: platforms' reports of government content-removal demands, made comparable."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/takedowns/takedowns"
