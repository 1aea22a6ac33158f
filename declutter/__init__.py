"""declutter: keep the main content of plain-text web page dumps."""

__version__ = "0.1.0"
