/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A haze of spores over the organism: its bright threads bloom softly into the air, and a slow veil of spore dust drifts across",
  "CREDIT": "Myco",
  "CATEGORIES": ["Blur", "Glow", "Myco"],
  "INPUTS": [
    {"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "amount", "LABEL": "Haze", "TYPE": "float", "DEFAULT": 0.45, "MIN": 0.0, "MAX": 1.0},
    {"NAME": "radius", "LABEL": "Radius", "TYPE": "float", "DEFAULT": 6.0, "MIN": 1.0, "MAX": 24.0},
    {"NAME": "threshold", "LABEL": "Bloom from", "TYPE": "float", "DEFAULT": 0.25, "MIN": 0.0, "MAX": 1.0},
    {"NAME": "dust", "LABEL": "Spore dust", "TYPE": "float", "DEFAULT": 0.12, "MIN": 0.0, "MAX": 0.5},
    {"NAME": "tint", "LABEL": "Tint", "TYPE": "color", "DEFAULT": [0.55, 0.95, 0.85, 1.0]},
    {"NAME": "drift", "LABEL": "Drift", "TYPE": "float", "DEFAULT": 0.04, "MIN": 0.0, "MAX": 0.3}
  ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}

vec3 bright(vec2 uv) {
    vec3 c = IMG_NORM_PIXEL(inputImage, uv).rgb;
    float l = dot(c, vec3(0.2126, 0.7152, 0.0722));
    return c * smoothstep(threshold, threshold + 0.25, l);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    vec4 original = IMG_NORM_PIXEL(inputImage, uv);
    vec2 texel = 1.0 / RENDERSIZE;
    // two rings of taps: a soft, cheap bloom of the bright threads
    vec3 bloom = bright(uv) * 0.2;
    for (float i = 0.0; i < 12.0; i += 1.0) {
        float a = i * 0.5236 + 0.26;
        vec2 dir = vec2(cos(a), sin(a)) * texel * radius;
        bloom += bright(uv + dir) * 0.045 + bright(uv + dir * 2.2) * 0.022;
    }
    // the spore veil: slow noise drifting up and sideways
    vec2 q = uv * vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0) * 5.0 + vec2(TIME * drift * 0.7, -TIME * drift);
    float veil = noise(q) * 0.6 + noise(q * 2.3 + 7.0) * 0.4;
    veil = smoothstep(0.45, 1.0, veil) * dust;
    vec3 haze = (bloom * 1.6 + veil) * tint.rgb;
    vec3 result = original.rgb + haze * amount;
    gl_FragColor = vec4(result / (1.0 + 0.25 * result), original.a);
}
