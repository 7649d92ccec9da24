/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A hexagonal shield of clear light that blooms from a point when its pulse fires and fades over a few seconds: a layer (screen or add), or a mask that lets through only what it covers",
  "CREDIT": "Myco",
  "CATEGORIES": ["Generator", "Pattern", "Myco"],
  "INPUTS": [
    {"NAME": "center", "LABEL": "Centre", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0]},
    {"NAME": "reach", "LABEL": "Reach", "TYPE": "float", "DEFAULT": 0.45, "MIN": 0.0, "MAX": 1.5},
    {"NAME": "cells", "LABEL": "Cells", "TYPE": "float", "DEFAULT": 14.0, "MIN": 3.0, "MAX": 60.0},
    {"NAME": "light", "LABEL": "Colour", "TYPE": "color", "DEFAULT": [0.75, 0.95, 1.0, 1.0]},
    {"NAME": "presence", "LABEL": "Always there", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 1.0},
    {"NAME": "hold", "LABEL": "Fade (s)", "TYPE": "float", "DEFAULT": 6.0, "MIN": 0.2, "MAX": 60.0},
    {"NAME": "pulse", "LABEL": "Pulse", "TYPE": "event"}
  ],
  "PASSES": [
    {"TARGET": "envelope", "PERSISTENT": true, "FLOAT": true, "WIDTH": "1", "HEIGHT": "1"},
    {}
  ]
}*/

// distance to the nearest hexagon edge, in a grid of unit hexagons
float hexEdge(vec2 p) {
    vec2 r = vec2(1.0, 1.7320508);
    vec2 h = r * 0.5;
    vec2 a = mod(p, r) - h;
    vec2 b = mod(p - h, r) - h;
    vec2 g = dot(a, a) < dot(b, b) ? a : b;
    vec2 q = abs(g);
    return 0.5 - max(dot(q, normalize(vec2(1.0, 1.7320508))), q.x);
}

void main() {
    float previous = IMG_NORM_PIXEL(envelope, vec2(0.5)).r;
    if (PASSINDEX == 0) {
        // the pulse's envelope, kept from frame to frame: 1 when it fires, fading over `hold` seconds
        gl_FragColor = vec4(pulse ? 1.0 : previous * exp(-TIMEDELTA / hold), 0.0, 0.0, 1.0);
        return;
    }
    float level = max(presence, previous);
    vec2 aspect = vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0);
    vec2 p = isf_FragNormCoord * aspect;
    float d = length(p - center * aspect);
    float wave = reach * (0.35 + 0.65 * sqrt(level)) * (1.0 + 0.04 * sin(TIME * 2.0));
    float inside = 1.0 - smoothstep(wave - 0.08, wave, d);
    float rim = exp(-pow((d - wave) * 18.0, 2.0));
    float edge = 1.0 - smoothstep(0.0, 0.06, hexEdge(p * cells));
    float shine = clamp((inside * (0.15 + 0.55 * edge) + rim * 0.9) * level, 0.0, 1.0);
    gl_FragColor = vec4(light.rgb * shine, shine);
}
