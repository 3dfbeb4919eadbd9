"""capacity: real-time capacity coordination for Dutch birth care."""

__version__ = "0.1.0"
