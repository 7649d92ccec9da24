/*{
  "DESCRIPTION": "Agents deposit fresh trail along their step (additive line segments, one channel); the diffusion adds it to the trail with what it crossed (toxin, the mural mask).",
  "VERTEX": "deposit.vert",
  "INPUTS": [
    {"NAME": "deposit", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 0.8, "LABEL": "Deposit", "UNIT": "1/s", "SMOOTHING": 0.5},
    {"NAME": "digest", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Digest boost", "DESCRIPTION": "extra deposit where hyphae feed on waste", "SMOOTHING": 0.5},
    {"NAME": "braid", "TYPE": "float", "MIN": 0.0, "MAX": 0.01, "DEFAULT": 0.0025, "LABEL": "Cord braid", "UNIT": "height", "DESCRIPTION": "spacing of the filaments a cord is bundled from: each hypha lays its trail in its own lane beside its path", "SMOOTHING": 0.5},
    {"NAME": "mural_fray", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.5, "LABEL": "Mural fibres", "DESCRIPTION": "how much wider a cord's lanes spread on the mural mask, so the mural's strokes are grown of visible fibres, not drawn as tubes", "SMOOTHING": 1.0}
  ]
}*/
varying vec4 v_deposit;

void main() {
    gl_FragColor = v_deposit;
}
