"""The local stand-ins for the Cadasta platform: its database schema and its sync-tasks process."""
