// What every composite samples: the layers of the GPU simulation at canvas point p.
#include "events.glsl"
#include "palette.glsl"

uniform sampler2D u_trail;   // r hyphal density, g sour, b mural growth, a scar
uniform sampler2D u_fields;  // waste, toxin, density, flora (the kernel's coarse fields)
uniform sampler2D u_nodes;   // r pull, g presence, b core
uniform sampler2D u_links;   // r strand, g pulse energy
uniform sampler2D u_mask;    // the mural mask
varying vec2 v_uv;

// The canvas point of this pixel: the world paints the whole canvas (outputs show regions
// of the finished picture).
vec2 canvas_point() {
    return v_uv;
}

// Interference displaces rows sideways and adds static.
vec2 glitch_shift(vec2 p, float glitch) {
    float row = floor(p.y * 90.0);
    return p + vec2((hash12(vec2(row, floor(u_time * 20.0))) - 0.5) * 0.06 * glitch, 0.0);
}

vec3 static_noise(vec2 p, float glitch) {
    float n = hash12(floor(p * u_resolution * 0.5) + fract(u_time * 31.0) * 97.0);
    return vec3(n) * glitch;
}
