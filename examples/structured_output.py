"""Structured output: `parse()` sends a type as a strict JSON schema and decodes the answer into it.

The type can be a msgspec Struct (decoded by msgspec, no extra dependency) or, as in the official SDK's docs, a
pydantic model (needs `pip install openai_async[pydantic]`). Runs offline against the fake server unless
OPENAI_API_KEY is set.
"""

from __future__ import annotations

import asyncio

import msgspec
from _offline import open_client
from pydantic import BaseModel


class CalendarEvent(msgspec.Struct):
    """What the model must fill in (msgspec)."""

    name: str
    date: str
    participants: list[str]


class Step(BaseModel):
    explanation: str
    output: str


class MathReasoning(BaseModel):
    """The official docs' example (pydantic)."""

    steps: list[Step]
    final_answer: str


async def main() -> None:
    async with open_client() as client:
        # A msgspec Struct through Chat Completions.
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
        else:
            event = message.parsed  # a CalendarEvent, not a dict
            assert isinstance(event, CalendarEvent)
            print(f"{event.name!r} on {event.date!r} with {', '.join(event.participants) or 'nobody yet'}")

        # A pydantic model through the Responses API, line for line as the official docs write it.
        response = await client.responses.parse(
            model="gpt-4o-mini",
            input=[
                {"role": "system", "content": "You are a helpful math tutor. Guide the user step by step."},
                {"role": "user", "content": "how can I solve 8x + 7 = -23"},
            ],
            text_format=MathReasoning,
        )
        reasoning = response.output_parsed  # a MathReasoning instance (pydantic-validated)
        assert isinstance(reasoning, MathReasoning)
        for i, step in enumerate(reasoning.steps, 1):
            print(f"step {i}: {step.explanation} -> {step.output}")
        print(f"answer: {reasoning.final_answer}")


if __name__ == "__main__":
    asyncio.run(main())
