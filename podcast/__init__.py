"""papercast: a week of AI research papers in, a newsletter and a podcast episode out."""

__version__ = "0.1.0"
