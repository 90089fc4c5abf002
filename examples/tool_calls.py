"""A tool-call loop: the model asks for `get_weather`, we run it, send the result back and print its answer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from _offline import open_client

from openai_async import function_tool


class GetWeather(msgspec.Struct):
    """The arguments of the get_weather tool."""

    city: str


def get_weather(args: GetWeather) -> dict[str, Any]:
    """Stand-in for a real weather service."""
    return {"city": args.city, "temperature_c": 21, "sky": "sunny"}


def echo(call: Any) -> dict[str, Any]:
    """A tool call as the next request repeats it in the assistant turn."""
    function = {"name": call.function.name, "arguments": call.function.arguments}
    return {"id": call.id, "type": "function", "function": function}


TOOLS = [function_tool(GetWeather, name="get_weather", description="The current weather in a city.")]


async def main() -> None:
    async with open_client() as client:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather like in Lisbon?"}]
        for _ in range(5):  # bounded, in case the model keeps calling tools
            # parse() decodes each call's arguments into the tool's Struct (call.function.parsed_arguments).
            completion = await client.chat.completions.parse(
                model="gpt-4o-mini", messages=messages, tools=TOOLS
            )
            message = completion.choices[0].message
            if not message.tool_calls:
                print(message.content)
                return
            calls = [call for call in message.tool_calls if call.type == "function"]
            messages.append({"role": "assistant", "tool_calls": [echo(call) for call in calls]})
            for call in calls:
                result = get_weather(call.function.parsed_arguments)
                print(f"-> {call.function.name}({call.function.arguments}) = {result}")
                content = msgspec.json.encode(result).decode()
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})


if __name__ == "__main__":
    asyncio.run(main())
