"""/mcp: the read-only tools over the Model Context Protocol (CONTRACT §11).

``lazy.py`` serves the path and loads the SDK on first use, ``server.py`` builds the SDK's
server and Streamable HTTP transport, ``gate.py`` checks each request's caller and rate, ``access.py`` says what a caller may read,
``tools.py`` declares the tools, ``toolbox.py`` answers them, ``steps.py`` counts and records a
flow's steps, ``shaping.py`` trims, redacts and bounds what they say.
"""
