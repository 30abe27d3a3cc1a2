"""What a message says about a parcel: status, expected delivery, order reference.

Pure rules, no I/O: `phrases` (status wording in seven languages), `dates` (expected
delivery dates), `orders` (order references), `progress` (which statement is the latest
word on a parcel) and `facts` (one message + one number → one statement, with the
model's claims checked against the text).
"""

from frontscan.shipment.progress import STATUSES, ShipmentStatus, advances, latest

__all__ = ["STATUSES", "ShipmentStatus", "advances", "latest"]
