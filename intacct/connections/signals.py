"""What the connections package tells the capabilities above it (which it may not import)."""

from django.dispatch import Signal

# Sent inside connection_disconnect's transaction, with `connection`: whatever a capability
# keeps that lets Sage or a person act for the connection (a notification secret) goes too.
connection_disconnected = Signal()
