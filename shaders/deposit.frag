/*{
  "DESCRIPTION": "Agents deposit trail (additive points): r hyphal density, g where it crossed toxin, b where it crossed the mural mask.",
  "VERTEX": "deposit.vert",
  "INPUTS": [
    {"NAME": "deposit", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 0.8, "LABEL": "Deposit", "UNIT": "1/s", "SMOOTHING": 0.5},
    {"NAME": "digest", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Digest boost", "DESCRIPTION": "extra deposit where hyphae feed on waste", "SMOOTHING": 0.5}
  ]
}*/
varying vec4 v_deposit;

void main() {
    gl_FragColor = v_deposit;
}
