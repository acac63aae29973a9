"""Population service records: residence registration, rented housing, foreign visitors,
residence permits and service requests — private by design (see docs/population.md)."""

from .schema import migrations
from .service import PopulationService

__all__ = ["PopulationService", "migrations"]
