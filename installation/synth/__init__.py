"""The sound of the network: pure numpy DSP, block-based, no audio library.

:class:`installation.synth.synth.Synth` turns WorldFrames and events into sample blocks;
:mod:`installation.synth.offline` renders a show to a WAV faster than real time. The
realtime stream around it lives in :mod:`installation.audio`.
"""
