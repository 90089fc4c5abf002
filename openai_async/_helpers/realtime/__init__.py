"""``client.realtime.connect()``: the resource method (``resource``) and the WebSocket connection (``connection``)."""
