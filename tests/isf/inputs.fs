/*{
  "ISFVSN": "2",
  "DESCRIPTION": "Each input type in its own quarter of the picture",
  "CREDIT": "Myco tests",
  "INPUTS": [
    {"NAME": "level", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.25},
    {"NAME": "mode", "TYPE": "long", "VALUES": [0, 2, 5], "LABELS": ["off", "two", "five"], "DEFAULT": 2},
    {"NAME": "flag", "TYPE": "bool", "DEFAULT": true},
    {"NAME": "tint", "TYPE": "color", "DEFAULT": [1.0, 0.5, 0.0, 0.75]},
    {"NAME": "spot", "TYPE": "point2D", "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "DEFAULT": [0.2, 0.6]},
    {"NAME": "cursor", "TYPE": "point2D", "DEFAULT": [0.0, 0.0]},
    {"NAME": "bang", "TYPE": "event"}
  ]
}*/

void main() {
    float x = isf_FragNormCoord.x;
    if (x < 0.25) {
        gl_FragColor = vec4(level, float(mode) / 10.0, flag ? 1.0 : 0.0, 1.0);
    } else if (x < 0.5) {
        gl_FragColor = tint;
    } else if (x < 0.75) {
        gl_FragColor = vec4(spot, cursor / RENDERSIZE);
    } else {
        gl_FragColor = vec4(bang ? 1.0 : 0.0, 0.0, 0.0, 1.0);
    }
}
