"""Contract lifecycle as a pure function: (state, event) → (new state, effects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    INVITED = "invited"
    COLLECTING = "collecting"
    NEGOTIATING = "negotiating"
    AWAITING_SIGNATURE = "awaiting_signature"
    CUSTOMER_SIGNED = "customer_signed"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    BOUNCED = "bounced"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset(
    {State.DRAFT, State.INVITED, State.COLLECTING, State.NEGOTIATING, State.AWAITING_SIGNATURE}
)


class Effect(StrEnum):
    SEND_FOLLOWUP = "send_followup"
    FINALIZE = "finalize"  # render the final PDF, processor signs, send it
    CUSTOMER_SIGN = "customer_sign"  # customer's signature, LTA, archive, completion mail
    NOTIFY_STAFF = "notify_staff"
    SEND_NOT_COUNTED = "send_not_counted"  # acceptance before the final version
    # acceptance that does not name the current final version: send that version again
    RESEND_FINAL = "resend_final"


@dataclass(frozen=True)
class Event:
    # invitation_sent | answers | accepted | signed_returned | declined | archived | bounced
    # | expired | change_decided
    kind: str
    complete: bool = False  # for answers: every required field is now known
    changed: bool = False  # for answers: some value differs from the current version
    # for accepted: the reply answers the latest final-version mail, with no change request
    to_final: bool = False
    # for answers and change_decided: change requests of the customer still wait for staff
    open_changes: bool = False


@dataclass(frozen=True)
class Transition:
    state: State
    effects: tuple[Effect, ...] = field(default=())
    note: str = ""


def decide(state: State, event: Event) -> Transition:
    """The next state and what must happen; never raises for an odd event, it records it."""
    if state not in OPEN_STATES and event.kind != "archived":
        return Transition(state, (), f"contract is {state}; {event.kind} ignored")
    match event.kind:
        case "invitation_sent":
            if state == State.DRAFT:
                return Transition(State.INVITED)
            return Transition(state)
        case "answers":
            if event.open_changes:
                # Nothing is final while staff have not decided on a requested change; the
                # customer hears that their request was passed on (and what is still missing).
                return Transition(State.NEGOTIATING, (Effect.SEND_FOLLOWUP,))
            if event.complete and (event.changed or state != State.AWAITING_SIGNATURE):
                return Transition(State.AWAITING_SIGNATURE, (Effect.FINALIZE,))
            if event.complete:
                return Transition(state, (), "nothing new in the reply")
            return Transition(State.COLLECTING, (Effect.SEND_FOLLOWUP,))
        case "accepted":
            if state == State.AWAITING_SIGNATURE and event.to_final:
                return Transition(State.CUSTOMER_SIGNED, (Effect.CUSTOMER_SIGN,))
            if state == State.AWAITING_SIGNATURE:
                # An older version's mail, or no sign of which version: nothing is signed; the
                # customer gets the current version, its fingerprint, and is asked again.
                return Transition(
                    state,
                    (Effect.RESEND_FINAL,),
                    "acceptance does not name the current final version",
                )
            return Transition(
                state,
                (Effect.SEND_NOT_COUNTED,),
                "acceptance counts only as an answer to the final version",
            )
        case "signed_returned":
            # The customer's own signature on the PDF we sent, already checked (bytes, chain,
            # pages, signer): it is the acceptance, whatever mail it came in.
            if state == State.AWAITING_SIGNATURE:
                return Transition(State.CUSTOMER_SIGNED, (Effect.CUSTOMER_SIGN,))
            return Transition(state, (), "a signed PDF counts only for the final version")
        case "change_decided":
            if state != State.NEGOTIATING or event.open_changes:
                return Transition(state)
            if event.complete:
                return Transition(State.AWAITING_SIGNATURE, (Effect.FINALIZE,))
            return Transition(State.COLLECTING)
        case "declined":
            return Transition(State.DECLINED, (Effect.NOTIFY_STAFF,))
        case "bounced":
            return Transition(State.BOUNCED, (Effect.NOTIFY_STAFF,))
        case "expired":
            return Transition(State.EXPIRED, (Effect.NOTIFY_STAFF,))
        case "archived":
            if state == State.CUSTOMER_SIGNED:
                return Transition(State.COMPLETED)
            return Transition(state, (), f"archive event in state {state} ignored")
    return Transition(state, (), f"unknown event {event.kind}")
