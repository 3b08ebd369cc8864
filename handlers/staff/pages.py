"""The ◀ ▶ buttons under a long answer: show another page of it in the same message."""

from __future__ import annotations

from handlers.staff._context import PAGE_PREFIX, StaffContext, page_view, stored_pages
from handlers.staff._registry import STAFF, callback


@callback(PAGE_PREFIX, roles=STAFF, audit=False)  # the command that made the pages was audited
async def turn_page(sc: StaffContext) -> None:
    key, _, number = sc.data.partition(":")
    paged = stored_pages(sc.context, key)
    # The pages belong to the chat (and tenant) they were made for; kept in memory only.
    if paged is None or paged.slug != sc.slug or paged.chat_id != sc.chat_id:
        await sc.reply_template("pages_expired")
        return
    n = int(number) if number.isdigit() else 0
    n = min(max(n, 0), len(paged.pages) - 1)
    body, markup = page_view(key, paged, n)
    query = sc.update.callback_query
    assert query is not None
    await query.edit_message_text(body, reply_markup=markup)
