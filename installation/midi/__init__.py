"""The pure MIDI layer: messages, bindings, profiles, learn, takeover, clock, feedback.

Imports no MIDI library: :mod:`installation.inputs.midi` wraps python-rtmidi around the
:class:`~installation.midi.router.Router` defined here.
"""
