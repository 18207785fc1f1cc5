"""The server's handlers by job; each module's `register` adds its features to the server."""
