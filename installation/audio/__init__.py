"""The realtime sound: the synth in its own process, playing through sounddevice (PortAudio).

:class:`installation.audio.engine.AudioEngine` is the handle the app holds; the child
process is :mod:`installation.audio.process`; device listing and lookup are in
:mod:`installation.audio.devices`.
"""
