/*{
  "DESCRIPTION": "Trail diffusion and decay; this frame's deposit joins it with what it crossed; drones scar the trail (alpha), scars heal slowly.",
  "INPUTS": [
    {"NAME": "decay", "TYPE": "float", "MIN": 0.0, "MAX": 5.0, "DEFAULT": 2.5, "LABEL": "Trail decay", "UNIT": "1/s", "SMOOTHING": 0.5},
    {"NAME": "diffusion", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.05, "LABEL": "Diffusion", "SMOOTHING": 0.5},
    {"NAME": "heal", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.05, "LABEL": "Scar healing", "UNIT": "1/s", "SMOOTHING": 0.5}
  ]
}*/
#include "events.glsl"

uniform sampler2D u_trail;
uniform sampler2D u_fresh;   // this frame's deposit (r), from deposit.frag's points
uniform sampler2D u_fields;  // waste, toxin, density, flora
uniform sampler2D u_mask;    // the mural mask
uniform vec2 u_texel;
varying vec2 v_uv;

void main() {
    vec4 centre = texture2D(u_trail, v_uv);
    // The 3x3 box from four bilinear taps (the trail filters linearly): per axis, one tap halfway
    // between texels -1 and 0 weighs both alike, one on texel +1 (weights 2 and 1 of 3).
    vec2 lo = v_uv - 0.5 * u_texel;
    vec2 hi = v_uv + u_texel;
    vec4 sum = 4.0 * texture2D(u_trail, lo) + 2.0 * texture2D(u_trail, vec2(hi.x, lo.y))
             + 2.0 * texture2D(u_trail, vec2(lo.x, hi.y)) + texture2D(u_trail, hi);
    vec4 blurred = mix(centre, sum / 9.0, clamp(diffusion * u_dt * 60.0, 0.0, 1.0));
    vec3 trail = blurred.rgb * exp(-decay * u_dt);
    float scar = centre.a * exp(-heal * u_dt);
    Fx fx = fx_at(v_uv);  // the renderer counts only the events up to the last drone or shield
    // Drones burn the hyphae under them; their claws leave furrows that outlast them.
    scar = max(scar, fx.scar);
    trail *= 1.0 - fx.drone * 0.5;
    // The shield heals what it covers a little faster.
    scar *= 1.0 - clamp(fx.shield * u_dt, 0.0, 1.0);
    // The fresh deposit: r hyphal density, g where it crossed toxin, b where it crossed the mural.
    float fresh = texture2D(u_fresh, v_uv).r;
    trail += fresh * vec3(1.0, texture2D(u_fields, v_uv).g, texture2D(u_mask, v_uv).r);
    gl_FragColor = vec4(trail, scar);
}
