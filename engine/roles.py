"""The roles of the Latvian service-management methodology, as Plūsma groups.

Process files name these ids in ``camunda:candidateGroups`` and lanes; the demo users of a new
embedded installation get one each.
"""

from __future__ import annotations

from engine.identity import ADMIN_GROUP

#: group id -> (Latvian name, English name)
ROLES: dict[str, tuple[str, str]] = {
    "kac": ("Klientu apkalpotājs (KAC, 1. līmenis)", "Front office (service desk, level 1)"),
    "l2": ("Pakalpojuma izpildītājs (2. līmenis)", "Service executor (level 2)"),
    "l3": ("Partneris vai ārējais piegādātājs (3. līmenis)", "Partner or external supplier (level 3)"),
    "pakalpojuma-turetajs": ("Pakalpojuma turētājs", "Service owner"),
    "procesa-vaditajs": ("Procesa vadītājs", "Process manager"),
    "konsultativa-padome": ("Konsultatīvā padome", "Advisory board (CAB)"),
    "portfela-vaditajs": ("Iestādes pakalpojumu kopuma vadītājs", "Service portfolio manager"),
    ADMIN_GROUP: ("Administrators", "Administrator"),
}
