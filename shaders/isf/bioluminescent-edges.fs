/*{
  "ISFVSN": "2",
  "DESCRIPTION": "Bioluminescent edge glow: the rims of the hyphae light up in a cold teal that warms to amber where they are strongest",
  "CREDIT": "Myco",
  "CATEGORIES": ["Stylize", "Glow", "Myco"],
  "INPUTS": [
    {"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "strength", "LABEL": "Glow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0},
    {"NAME": "width", "LABEL": "Edge width", "TYPE": "float", "DEFAULT": 1.5, "MIN": 0.5, "MAX": 6.0},
    {"NAME": "cold", "LABEL": "Cold edge", "TYPE": "color", "DEFAULT": [0.1, 0.85, 0.8, 1.0]},
    {"NAME": "warm", "LABEL": "Warm edge", "TYPE": "color", "DEFAULT": [1.0, 0.65, 0.2, 1.0]},
    {"NAME": "pulse", "LABEL": "Pulse", "TYPE": "event"}
  ]
}*/

float luma(vec2 uv) {
    return dot(IMG_NORM_PIXEL(inputImage, uv).rgb, vec3(0.2126, 0.7152, 0.0722));
}

void main() {
    vec2 uv = isf_FragNormCoord;
    vec4 original = IMG_NORM_PIXEL(inputImage, uv);
    vec2 d = width / RENDERSIZE;
    float tl = luma(uv + vec2(-d.x, d.y)), t = luma(uv + vec2(0.0, d.y)), tr = luma(uv + d);
    float l = luma(uv - vec2(d.x, 0.0)), r = luma(uv + vec2(d.x, 0.0));
    float bl = luma(uv - d), b = luma(uv - vec2(0.0, d.y)), br = luma(uv + vec2(d.x, -d.y));
    float gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
    float gy = (tl + 2.0 * t + tr) - (bl + 2.0 * b + br);
    float edge = smoothstep(0.1, 1.4, length(vec2(gx, gy)));
    vec3 glow = mix(cold.rgb, warm.rgb, smoothstep(0.55, 1.0, edge)) * edge;
    float boost = pulse ? 2.5 : 1.0;  // a beat of the network flares every rim at once
    gl_FragColor = vec4(original.rgb + glow * strength * boost, original.a);
}
