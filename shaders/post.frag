/*{
  "DESCRIPTION": "Final pass: glow, exposure, tone mapping, palette hue and saturation, vignette, grain, blackout.",
  "INPUTS": [
    {"NAME": "glow", "TYPE": "float", "MIN": 0.0, "MAX": 3.0, "DEFAULT": 0.7, "LABEL": "Glow", "SMOOTHING": 0.5},
    {"NAME": "vignette", "TYPE": "float", "MIN": 0.0, "MAX": 1.5, "DEFAULT": 0.55, "LABEL": "Vignette", "SMOOTHING": 0.5},
    {"NAME": "grain", "TYPE": "float", "MIN": 0.0, "MAX": 0.2, "DEFAULT": 0.025, "LABEL": "Grain", "SMOOTHING": 0.5},
    {"NAME": "exposure", "PARAM": "render.exposure", "TYPE": "float", "MIN": 0.1, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Exposure", "UNIT": "x", "DESCRIPTION": "overall brightness before tone mapping", "SMOOTHING": 0.5},
    {"NAME": "blackout", "PARAM": "render.blackout", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.0, "LABEL": "Blackout", "DESCRIPTION": "fade to black (1 = black)", "SMOOTHING": 1.5},
    {"NAME": "hue_shift", "PARAM": "render.hue_shift", "TYPE": "float", "MIN": -0.5, "MAX": 0.5, "DEFAULT": 0.0, "LABEL": "Hue shift", "UNIT": "turn", "DESCRIPTION": "rotate the look's palette", "SMOOTHING": 1.0},
    {"NAME": "saturation", "PARAM": "render.saturation", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 1.0, "LABEL": "Saturation", "UNIT": "x", "DESCRIPTION": "palette saturation", "SMOOTHING": 1.0}
  ]
}*/
#include "common.glsl"

uniform sampler2D u_scene;
uniform sampler2D u_scene_from;  // the look being faded from (the same as u_scene when none)
uniform float u_look_mix;        // 0: the old look, 1: the new one
uniform sampler2D u_bloom;
varying vec2 v_uv;

vec3 rotate_hue(vec3 c, float turns) {
    // Rotation about the grey axis in YIQ space keeps luminance.
    mat3 to_yiq = mat3(0.299, 0.596, 0.211, 0.587, -0.274, -0.523, 0.114, -0.322, 0.312);
    mat3 to_rgb = mat3(1.0, 1.0, 1.0, 0.956, -0.272, -1.106, 0.621, -0.647, 1.703);
    vec3 yiq = to_yiq * c;
    float a = turns * 2.0 * PI;
    yiq.yz = mat2(cos(a), sin(a), -sin(a), cos(a)) * yiq.yz;
    return to_rgb * yiq;
}

void main() {
    // The canvas keeps image order (y = 0 at the top, like seeds and masks); GL's is bottom-up.
    vec2 uv = vec2(v_uv.x, 1.0 - v_uv.y);
    vec3 scene = mix(texture2D(u_scene_from, uv).rgb, texture2D(u_scene, uv).rgb, u_look_mix);
    vec3 col = scene + texture2D(u_bloom, uv).rgb * glow;
    col *= exposure;
    col = rotate_hue(col, hue_shift);
    col = max(mix(vec3(luma(col)), col, saturation), 0.0);
    // Filmic curve: keeps the darks deep and rolls highlights off softly.
    col = (col * (2.51 * col + 0.03)) / (col * (2.43 * col + 0.59) + 0.14);
    vec2 d = (v_uv - 0.5) * vec2(u_aspect, 1.0);
    col *= 1.0 - vignette * smoothstep(0.35, 1.1, length(d));
    col += (hash12(v_uv * u_resolution + fract(u_time * 7.13) * 311.0) - 0.5) * grain;
    col *= 1.0 - blackout;
    gl_FragColor = vec4(clamp(col, 0.0, 1.0), 1.0);
}
