"""Who may read and change camera rules — declared once for the whole package.

Technicians and command-centre supervisors edit a camera's rules; operators read them (and
see drift). The role matrix itself lives in ``coordinator.identity.auth``; a test keeps it
equal to what is declared here.
"""

from __future__ import annotations

from ..identity.auth import Perm, Role

READ = Perm.RULES_READ
EDIT = Perm.RULES_WRITE

#: Roles granted each permission (admin holds every permission anyway).
READERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.TECHNICIAN, Role.ADMIN})
EDITORS = frozenset({Role.SUPERVISOR, Role.TECHNICIAN, Role.ADMIN})
