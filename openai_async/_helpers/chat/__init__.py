"""``chat.completions.stream()`` / ``parse()``: the resource methods (``resource``) and the stream machinery (``stream``)."""
