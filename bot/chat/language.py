"""Which language the staff chat speaks to whom (pure: settings in, a language out).

A tenant's staff chat speaks ``[telegram] language`` (default: the tenant's ``language``, the
one its customer mails default to); a staff member's own ``language`` overrides it for that
person. Answers, buttons and page labels are in the language of the person who asked; notices
in the staff group are in the tenant's chat language. Someone the bot refuses is not known to
any tenant: they are answered in the language every tenant involved would use, else English.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.settings import StaffMember, TenantSettings

FALLBACK = "en"


def chat_language(tenant: TenantSettings) -> str:
    """The language of the tenant's staff chat: notices in its group, and its staff's default."""
    cfg = tenant.telegram
    if cfg is not None and cfg.language is not None:
        return cfg.language
    return tenant.language


def member_language(tenant: TenantSettings, member: StaffMember | None) -> str:
    """The language one staff member is answered in."""
    if member is not None and member.language is not None:
        return member.language
    return chat_language(tenant)


def refusal_language(tenants: Iterable[TenantSettings]) -> str:
    """The language of a refusal: the one all these tenants' chats speak, else English."""
    languages = {chat_language(t) for t in tenants}
    return languages.pop() if len(languages) == 1 else FALLBACK
