"""Folding an Assistants delta (as JSON-ready dicts) into the snapshot it updates.

The rule the API's deltas follow (and the official SDK's accumulation applies): strings and numbers append,
objects merge key by key, ``index`` and ``type`` are replaced (they identify, they do not accumulate), lists of
scalars grow, and lists of objects carry an ``index`` per entry saying which entry the fragment belongs to.
"""

from __future__ import annotations

from typing import Any

__all__ = ["merge_delta"]

_REPLACED = frozenset({"index", "type"})


def _indexed(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(e, dict) and "index" in e for e in value)


def merge_delta(snapshot: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Fold ``delta`` into ``snapshot`` (changed in place, and returned).

    Raises:
        TypeError: a list fragment is not an object, or its ``index`` is not an integer.
    """
    for key, value in delta.items():
        current = snapshot.get(key)
        if current is None:
            if not _indexed(value):
                snapshot[key] = value
                continue
            current = snapshot[key] = []  # one delta may carry several fragments of the same entry
        if key in _REPLACED:
            snapshot[key] = value
        elif isinstance(current, str) and isinstance(value, str):
            snapshot[key] = current + value
        elif (
            isinstance(current, (int, float))
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            snapshot[key] = current + value
        elif isinstance(current, dict) and isinstance(value, dict):
            merge_delta(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            _merge_list(current, value, key)
        else:
            snapshot[key] = value
    return snapshot


def _merge_list(current: list[Any], fragments: list[Any], key: str) -> None:
    if not _indexed(fragments) and all(not isinstance(e, dict) for e in current):
        current.extend(fragments)  # a list of scalars only ever grows
        return
    for fragment in fragments:
        if not isinstance(fragment, dict):
            raise TypeError(f"a delta of the list {key!r} holds a non-object entry: {fragment!r}")
        index = fragment.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"a delta entry of the list {key!r} needs an integer 'index', got {index!r}")
        if index < len(current) and isinstance(current[index], dict):
            merge_delta(current[index], fragment)
        else:
            current.insert(index, dict(fragment))
