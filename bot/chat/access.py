"""Who may talk to a staff bot, for which tenant (pure: settings in, a decision out).

Several tenants may share one bot token. An update is routed by its chat first (each tenant's
``staff_chat_id`` and ``chat_ids``), then, in a private chat, by the user being on exactly one
of those tenants' allowlists. Anything else is refused; ``concerned`` names the tenants whose
audit log records the refusal (none when no tenant can be told from the update).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.settings import StaffMember, TenantSettings
from bot.errors import ConfigError

# Refusal reasons
UNKNOWN = "unknown"  # not on any allowlist of this bot (or not of the chat's tenant)
AMBIGUOUS = "ambiguous"  # on several tenants' lists, in a private chat
UNMAPPED = "unmapped_chat"  # a group chat no tenant has mapped


@dataclass(frozen=True)
class Access:
    """The decision for one update: a tenant and staff member, or a refusal."""

    slug: str | None = None
    member: StaffMember | None = None
    refusal: str | None = None
    concerned: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.refusal is None


class Directory:
    """The tenants behind one bot token, indexed by chat and by staff member."""

    def __init__(self, tenants: list[TenantSettings]) -> None:
        self.slugs = tuple(t.slug for t in tenants)
        self.by_chat: dict[int, str] = {}
        self.staff: dict[str, dict[int, StaffMember]] = {}
        for t in tenants:
            assert t.telegram is not None
            self.staff[t.slug] = {m.user_id: m for m in t.telegram.staff}
            for chat in sorted(t.telegram.chats()):
                other = self.by_chat.get(chat)
                if other is not None:
                    raise ConfigError(
                        f"{_source(tenants, other)} and {_source(tenants, t.slug)} share a "
                        f"Telegram bot token and both map chat {chat} (key "
                        "'telegram.staff_chat_id' or 'telegram.chat_ids'); give each tenant a "
                        "group chat of its own."
                    )
                self.by_chat[chat] = t.slug

    def resolve(self, chat_id: int, chat_type: str, user_id: int) -> Access:
        slug = self.by_chat.get(chat_id)
        if slug is not None:
            member = self.staff[slug].get(user_id)
            if member is None:
                return Access(slug=slug, refusal=UNKNOWN, concerned=(slug,))
            return Access(slug=slug, member=member)
        listing = [s for s in self.slugs if user_id in self.staff[s]]
        if chat_type != "private":
            return Access(refusal=UNMAPPED, concerned=tuple(listing) or self._only())
        if len(listing) == 1:
            return Access(slug=listing[0], member=self.staff[listing[0]][user_id])
        if listing:
            return Access(refusal=AMBIGUOUS, concerned=tuple(listing))
        return Access(refusal=UNKNOWN, concerned=self._only())

    def _only(self) -> tuple[str, ...]:
        # A bot of one tenant: that tenant is concerned by anyone talking to it.
        return self.slugs if len(self.slugs) == 1 else ()


def _source(tenants: list[TenantSettings], slug: str) -> str:
    for t in tenants:
        if t.slug == slug:
            return str(t.source) if t.source else f"tenant '{slug}'"
    return f"tenant '{slug}'"
