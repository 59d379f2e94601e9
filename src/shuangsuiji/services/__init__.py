"""Services: one module per noun; each takes a connection and returns plain data."""
