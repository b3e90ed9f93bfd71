"""sigcorr's version, in a module of its own so that private modules (the
cost model's cache key) can read it without importing the package."""

__version__ = "0.1.0"
