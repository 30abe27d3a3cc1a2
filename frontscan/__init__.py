"""frontscan: find shipment tracking numbers in Front conversations and keep them in PostgreSQL."""

__version__ = "0.1.0"
