"""Unit tests of the API: domain use cases, access control, validation, transport conversions."""
