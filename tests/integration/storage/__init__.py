"""The volume stores against the real engine and real volumes."""
