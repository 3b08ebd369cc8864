"""A contract's life, whatever the channel: invite, apply what a customer said (mail or chat),
negotiate clauses, finalize, sign and archive; customers' own signatures, reminders, bulk sends.

The path from an accepted reply to the archive is in this folder: apply.apply_reading decides
with the workflow and queues finalize or customer_sign (final.py, sign.py), which archives.
"""

from bot.contracts.apply import Applied, apply_reading
from bot.contracts.final import final_mail, finalize, resend_final
from bot.contracts.inbox import settle, shunt
from bot.contracts.invitations import (
    AlreadyInvited,
    Draft,
    add_customer,
    chat_link,
    invitation_mail,
    invite,
    new_chat_token,
    new_token,
    render_draft,
    render_invitation,
    store_invitations,
)
from bot.contracts.sign import customer_sign

__all__ = [
    "AlreadyInvited",
    "Applied",
    "Draft",
    "add_customer",
    "apply_reading",
    "chat_link",
    "customer_sign",
    "final_mail",
    "finalize",
    "invitation_mail",
    "invite",
    "new_chat_token",
    "new_token",
    "render_draft",
    "render_invitation",
    "resend_final",
    "settle",
    "shunt",
    "store_invitations",
]
