"""The customer's signature on the final version, then the processor's if second, LTA, archive."""

from __future__ import annotations

import json
from typing import Any

from bot.archive.store import archive_contract
from bot.contracts.final import processor_reason, processor_signature
from bot.contracts.own_signature import detail_of, returned_pdf
from bot.contracts.stamps import customer_stamp, processor_stamp
from bot.core.runtime import Runtime
from bot.domain.workflow import State
from bot.jobs import cpu
from signing import approve_processor, make_lta, sign_customer, validate_pdf
from signing.keys import signer_identity


async def customer_sign(
    rt: Runtime,
    slug: str,
    contract_id: int,
    message_row_id: int,
    *,
    returned_sha256: str | None = None,
) -> None:
    """The customer's signature, then the processor's if it signs second, LTA data, archive.

    The customer's signature is either one dpabot applies with a one-time certificate on the
    acceptance reply, or (``returned_sha256``) the customer's own, on the PDF they returned
    in message ``message_row_id`` and that bot.own_signature checked.
    """

    tenant = rt.tenant(slug)
    signing = rt.signing[slug]
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        contract = await repo.contract(contract_id)
        if contract.state != State.CUSTOMER_SIGNED:
            return  # done already, or superseded
        version_no = contract.current_version
        customer = await repo.customer(contract.customer_id)
        reply = await repo.message(message_row_id)
        version = await repo.version(contract)
        fields = dict(version.fields)
        sent_path = version.sent_pdf_path or next(
            (
                g.blob_path
                for g in await repo.signatures(contract)
                if g.version == version_no and g.party == "processor"
            ),
            None,
        )
        if sent_path is None:
            raise RuntimeError(f"contract {contract_id} has no final PDF that was sent")
    evidence = {"message_id": reply.message_id, "raw_sha256": reply.raw_sha256}
    processor_last = signing.order == "customer_first"
    rows: list[dict[str, Any]] = []
    if returned_sha256 is not None:
        own = returned_pdf(reply.raw, returned_sha256)
        checked = detail_of(reply)
        verdict = checked.get("verdict") or {}
        reason = f"Eigen handtekening, teruggestuurd per e-mail {reply.message_id}"
        rows.append(
            {
                "party": "customer",
                "signer": verdict.get("signer_cn") or customer.representative,
                "cert_sha256": verdict.get("cert_sha256") or "",
                "method": "own_certificate",
                "evidence": {
                    **evidence,
                    "returned_pdf_sha256": returned_sha256,
                    "signer_email": verdict.get("signer_email"),
                    "confirmed_by": checked.get("confirmed_by"),
                    "check": verdict.get("staff_detail"),
                },
            }
        )
    else:
        sent = rt.blobs.get(sent_path)
        one_time = signing.customer_ca.issue_one_time(
            customer.representative, customer.name, customer.email
        )
        method = "reply_acceptance"
        reason = f"Akkoord per e-mail {reply.message_id} (sha256 {reply.raw_sha256})"
        if reply.channel == "telegram":
            # Accepted with the chat's button: the stored update (user, chat, message, time,
            # the bound address) is the evidence, as the reply mail is by mail.
            tg = json.loads(reply.raw)
            evidence = {
                **evidence,
                "channel": "telegram",
                "telegram_user_id": tg["telegram_user_id"],
                "chat_id": tg["chat_id"],
                "telegram_message_id": tg["message_id"],
                "received_at": tg["received_at"],
                "bound_email": tg["bound_email"],
            }
            method = "chat_acceptance"
            reason = (
                f"Akkoord via Telegram (gebruiker {tg['telegram_user_id']}, chat "
                f"{tg['chat_id']}, bericht {tg['message_id']}, {tg['received_at']}) door "
                f"{tg['bound_email']} (sha256 {reply.raw_sha256})"
            )
        signer_name, cert_sha = signer_identity(one_time)
        rows.append(
            {
                "party": "customer",
                "signer": signer_name,
                "cert_sha256": cert_sha,
                "method": method,
                "evidence": {**evidence, "reason": reason},
            }
        )
    if processor_last:
        row = processor_signature(signing, contract_id, version_no, "", "")
        rows.append({k: row[k] for k in ("party", "signer", "cert_sha256", "method")})

    async def sign_and_seal() -> tuple[bytes, Any]:
        if returned_sha256 is not None:
            signed = own
        else:
            signed = await sign_customer(
                sent,
                one_time,
                signing.tsa_urls,
                reason=reason,
                stamp=customer_stamp(tenant, customer, fields, reply),
            )
        if processor_last:
            signed = await approve_processor(
                signed,
                signing.processor_signer,
                signing.tsa_urls,
                reason=processor_reason(tenant.slug, contract_id, version_no),
                location=tenant.place or None,
                stamp=processor_stamp(tenant),
            )
        lta = await make_lta(signed, signing.all_roots, signing.tsa_urls)
        return lta, await validate_pdf(lta, signing.all_roots)

    final, report = await cpu.in_thread_loop(sign_and_seal)
    await archive_contract(rt, slug, contract_id, message_row_id, final, report, rows)
