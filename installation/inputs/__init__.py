"""Thin adapters that turn the outside world (MIDI, OSC, MQTT) into engine inputs."""
