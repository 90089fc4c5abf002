"""Structured output: `chat.completions.parse()` sends a Struct as a strict JSON schema and decodes the answer."""

from __future__ import annotations

import asyncio

import msgspec
from _offline import open_client


class CalendarEvent(msgspec.Struct):
    """What the model must fill in."""

    name: str
    date: str
    participants: list[str]


async def main() -> None:
    async with open_client() as client:
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Extract the event information."},
                {"role": "user", "content": "Alice and Bob are going to a science fair on Friday."},
            ],
            response_format=CalendarEvent,
        )
        message = completion.choices[0].message
        if message.refusal:
            print(f"refused: {message.refusal}")
            return
        event = message.parsed  # a CalendarEvent, not a dict
        assert event is not None  # set whenever the model did not refuse
        print(event)
        print(f"{event.name!r} on {event.date!r} with {', '.join(event.participants) or 'nobody yet'}")


if __name__ == "__main__":
    asyncio.run(main())
