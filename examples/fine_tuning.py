"""Fine-tuning lifecycle: upload a JSONL training file, start a job, print its events as they come, then the model.

Against the real API the job takes minutes to hours and is billed; offline it finishes in well under a second.
"""

from __future__ import annotations

import asyncio

import msgspec
from _offline import open_client

EXAMPLES = [  # the API asks for at least 10
    ("Hello!", "Ahoy, matey!"),
    ("How are you?", "Shipshape and ready to sail!"),
    ("What time is it?", "Time to hoist the sails!"),
    ("Where are you going?", "To the seven seas, arr!"),
    ("Do you like fish?", "Aye, a fine catch for the galley."),
    ("What's your name?", "Cap'n Byte, at yer service."),
    ("Is it raining?", "A squall be brewin' off the bow."),
    ("Goodbye!", "Fair winds to ye!"),
    ("Can you help me?", "Aye, all hands on deck!"),
    ("What do you eat?", "Hardtack and salted pork, arr."),
]


def training_jsonl() -> bytes:
    """One chat example per line, in the format fine-tuning expects."""
    lines = [
        {
            "messages": [
                {"role": "system", "content": "You talk like a pirate."},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
        for question, answer in EXAMPLES
    ]
    return b"".join(msgspec.json.encode(line) + b"\n" for line in lines)


async def main() -> None:
    async with open_client() as client:
        training = await client.files.create(file=("pirate.jsonl", training_jsonl()), purpose="fine-tune")
        assert training.id is not None
        await client.files.wait_for_processing(training.id)
        job = await client.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18", training_file=training.id, suffix="pirate"
        )
        assert job.id is not None
        print(f"job {job.id}: {job.status}")
        watch = client.fine_tuning.jobs.wait(job.id)  # polls the job, yields each new event once
        async for event in watch:
            print(f"  [{event.level}] {event.message}")
        assert watch.job is not None
        print(f"{watch.job.status}: {watch.job.fine_tuned_model}")


if __name__ == "__main__":
    asyncio.run(main())
