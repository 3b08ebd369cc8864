"""What each party's visible signature says: built from the tenant, the customer and the reply."""

from __future__ import annotations

from bot.core.settings import TenantSettings
from bot.domain.fingerprint import message_ref
from signing.stamp import Stamp
from storage.models import Customer, Message
from templates import load_manifest
from templates.documents import FORM_FONT
from templates.stamps import stamp_text


def contract_language(template_id: str) -> str:
    """The contract's language (its template's), which its signatures speak too."""
    return load_manifest(template_id).language


def processor_stamp(tenant: TenantSettings) -> Stamp:
    """The processor's signature: its representative, function, firm and place."""
    text = stamp_text(
        contract_language(tenant.template),
        person=tenant.representative,
        function=tenant.representative_function,
        firm=tenant.name,
        place=tenant.place,
        how="tenant_key",
    )
    return Stamp(text, FORM_FONT)


def customer_stamp(
    tenant: TenantSettings, customer: Customer, fields: dict[str, str], reply: Message
) -> Stamp:
    """The customer's signature dpabot applies on an acceptance: who, where, and the reply
    (its Message-ID's short hash) or the chat that accepted."""
    by_chat = reply.channel == "telegram"
    text = stamp_text(
        contract_language(tenant.template),
        person=fields.get("customer_representative") or customer.representative,
        function=fields.get("customer_representative_function")
        or customer.representative_function
        or "",
        firm=fields.get("customer_name") or customer.name,
        place=fields.get("place", ""),
        how="chat_acceptance" if by_chat else "reply_acceptance",
        ref="" if by_chat else message_ref(reply.message_id or ""),
    )
    return Stamp(text, FORM_FONT)
