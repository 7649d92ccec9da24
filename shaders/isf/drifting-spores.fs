/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A generator of drifting spores: soft motes of light rising and swaying through the dark, for blending over the organism (screen or add)",
  "CREDIT": "Myco",
  "CATEGORIES": ["Generator", "Particles", "Myco"],
  "INPUTS": [
    {"NAME": "density", "LABEL": "Density", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0},
    {"NAME": "size", "LABEL": "Size", "TYPE": "float", "DEFAULT": 0.06, "MIN": 0.01, "MAX": 0.2},
    {"NAME": "rise", "LABEL": "Rise", "TYPE": "float", "DEFAULT": 0.03, "MIN": 0.0, "MAX": 0.3},
    {"NAME": "glow", "LABEL": "Colour", "TYPE": "color", "DEFAULT": [0.75, 1.0, 0.6, 1.0]},
    {"NAME": "burst", "LABEL": "Burst", "TYPE": "event"}
  ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(41.3, 289.1))) * 45758.5453);
}

float layer(vec2 p, float scale, float seed) {
    vec2 q = p * scale;
    vec2 cell = floor(q);
    float light = 0.0;
    for (float y = -1.0; y <= 1.0; y += 1.0) {
        for (float x = -1.0; x <= 1.0; x += 1.0) {
            vec2 c = cell + vec2(x, y);
            float h = hash(c + seed);
            if (h > density) continue;
            vec2 centre = c + vec2(hash(c * 1.7 + seed), hash(c * 2.3 - seed));
            centre.x += 0.3 * sin(TIME * 0.5 + h * 40.0);  // sway
            float d = length(q - centre) / (size * scale * (0.5 + h));
            float twinkle = 0.6 + 0.4 * sin(TIME * (1.0 + 3.0 * h) + h * 17.0);
            light += exp(-d * d * 4.0) * twinkle;
        }
    }
    return light;
}

void main() {
    vec2 aspect = vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0);
    vec2 p = isf_FragNormCoord * aspect;
    float light = 0.0;
    light += layer(p + vec2(0.0, -TIME * rise), 6.0, 1.0);
    light += 0.7 * layer(p + vec2(0.3, -TIME * rise * 0.6), 11.0, 7.0);
    light += 0.45 * layer(p + vec2(0.6, -TIME * rise * 0.35), 19.0, 13.0);
    light *= burst ? 2.0 : 1.0;
    light = clamp(light, 0.0, 1.0);
    gl_FragColor = vec4(glow.rgb * light, light);
}
