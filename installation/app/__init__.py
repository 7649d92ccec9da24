"""The composition root: builds the engine, outputs, sound, inputs and status, and wires them."""
