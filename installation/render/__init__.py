"""The GPU visual engine: vispy gloo programs over float framebuffers.

``params`` and ``looks`` are cheap and import no GL, so ``myco check`` and the parameter
bank can use them; everything else needs a current OpenGL context.
"""
