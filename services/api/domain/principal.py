"""Who is calling: the authenticated principal every use case of services/api/domain takes.

Made by services/api/transport/auth.py from a verified token; read by domain/access.py (tenant
admins may do everything) and by every use case.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is calling: a verified user of a tenant; admins may act on every pod."""

    tenant_id: str
    username: str
    is_admin: bool = False
