"""Tenant-scoped repositories: every query is filtered by the tenant the caller holds.

One module per area (customers, contracts, messages, archive, chat, staff, erasure), each a
part of ``TenantRepo``; ``BotTenants`` reads across the tenants of one Telegram bot."""

from storage.repositories.base import Scoped, TenantScoped
from storage.repositories.chat import BotTenants
from storage.repositories.contract_list import ContractList, ListedContract
from storage.repositories.contracts import COMPLETED
from storage.repositories.erasure import ERASED
from storage.repositories.tenant import TenantRepo
from storage.repositories.tenants import bind_all_tenants, ensure_tenant, get_tenant

__all__ = [
    "COMPLETED",
    "ERASED",
    "BotTenants",
    "ContractList",
    "ListedContract",
    "Scoped",
    "TenantRepo",
    "TenantScoped",
    "bind_all_tenants",
    "ensure_tenant",
    "get_tenant",
]
