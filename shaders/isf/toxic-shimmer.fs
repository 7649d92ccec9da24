/*{
  "ISFVSN": "2",
  "DESCRIPTION": "Toxic chromatic shimmer: the picture's colours slip apart in a sour violet heat haze that trembles with the low end of Myco's own sound",
  "CREDIT": "Myco",
  "CATEGORIES": ["Distortion", "Color", "Myco"],
  "INPUTS": [
    {"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "amount", "LABEL": "Shimmer", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0},
    {"NAME": "split", "LABEL": "Colour split", "TYPE": "float", "DEFAULT": 3.0, "MIN": 0.0, "MAX": 20.0},
    {"NAME": "speed", "LABEL": "Speed", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 3.0},
    {"NAME": "sour", "LABEL": "Sour tint", "TYPE": "color", "DEFAULT": [0.55, 0.2, 0.75, 1.0]},
    {"NAME": "sound", "TYPE": "audioFFT", "MAX": 64},
    {"NAME": "jolt", "LABEL": "Jolt", "TYPE": "event"}
  ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(269.5, 183.3))) * 43758.5453);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    // the low end of the sound (the first bins of the spectrum) shakes the haze
    float low = IMG_NORM_PIXEL(sound, vec2(0.03, 0.5)).r + IMG_NORM_PIXEL(sound, vec2(0.08, 0.5)).r;
    float shake = amount * (0.6 + 0.8 * low) * (jolt ? 3.0 : 1.0);
    float t = TIME * speed;
    vec2 warp = vec2(noise(uv * 6.0 + vec2(t, 0.0)), noise(uv * 6.0 + vec2(0.0, t) + 3.1)) - 0.5;
    vec2 px = 1.0 / RENDERSIZE;
    // The haze moves whole pixels: a fraction of a pixel, read through the linear filter, is a
    // blur, and a faint shimmer would soften every filament of the picture instead of trembling.
    vec2 offset = floor((warp * 2.0 + vec2(0.3, 0.1)) * split * shake + 0.5) * px;  // the split wanders, never a fixed fringe
    vec2 base = uv + floor(warp * 3.0 * shake + 0.5) * px;
    float r = IMG_NORM_PIXEL(inputImage, base + offset).r;
    float g = IMG_NORM_PIXEL(inputImage, base).g;
    float b = IMG_NORM_PIXEL(inputImage, base - offset).b;
    vec3 c = vec3(r, g, b);
    // the dark ground sours toward violet, the lit threads keep their colour
    float l = dot(c, vec3(0.2126, 0.7152, 0.0722));
    c = mix(c, c + sour.rgb * 0.25 * (1.0 - l), amount);
    gl_FragColor = vec4(c, IMG_NORM_PIXEL(inputImage, uv).a);
}
