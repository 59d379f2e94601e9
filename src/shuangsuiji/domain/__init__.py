"""Pure domain rules: no store, no CLI, no I/O."""
