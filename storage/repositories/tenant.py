"""TenantRepo: every read and write for one tenant, one class over the areas' repositories."""

from __future__ import annotations

from storage.repositories.archive import Archive
from storage.repositories.chat import ChatBindings
from storage.repositories.contracts import Contracts
from storage.repositories.customers import Customers
from storage.repositories.erasure import Erasure
from storage.repositories.messages import Messages
from storage.repositories.staff import StaffQueries


class TenantRepo(Customers, Contracts, Messages, Archive, ChatBindings, StaffQueries, Erasure):
    """Every read and write for one tenant; ids of other tenants are simply not found.

    Made on a session (``TenantRepo(session, tenant_id)``, or ``TenantScope.repo(session)``),
    it binds that session to the tenant: row-level security then shows its rows only."""
