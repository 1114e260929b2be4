"""Sample data for tests: the sample show, its episodes and its published site (support/shows.py)."""
