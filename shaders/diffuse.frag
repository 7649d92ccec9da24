/*{
  "DESCRIPTION": "Trail diffusion and decay; drones scar the trail (alpha), scars heal slowly.",
  "INPUTS": [
    {"NAME": "decay", "TYPE": "float", "MIN": 0.0, "MAX": 5.0, "DEFAULT": 2.5, "LABEL": "Trail decay", "UNIT": "1/s", "SMOOTHING": 0.5},
    {"NAME": "diffusion", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.05, "LABEL": "Diffusion", "SMOOTHING": 0.5},
    {"NAME": "heal", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.05, "LABEL": "Scar healing", "UNIT": "1/s", "SMOOTHING": 0.5}
  ]
}*/
#include "events.glsl"

uniform sampler2D u_trail;
uniform vec2 u_texel;
varying vec2 v_uv;

void main() {
    vec4 centre = texture2D(u_trail, v_uv);
    vec4 sum = vec4(0.0);
    for (int dy = -1; dy <= 1; dy++) {
        for (int dx = -1; dx <= 1; dx++) {
            sum += texture2D(u_trail, v_uv + vec2(float(dx), float(dy)) * u_texel);
        }
    }
    vec4 blurred = mix(centre, sum / 9.0, clamp(diffusion * u_dt * 60.0, 0.0, 1.0));
    vec3 trail = blurred.rgb * exp(-decay * u_dt);
    float scar = centre.a * exp(-heal * u_dt);
    Fx fx = fx_at(v_uv);
    // Drones burn the hyphae under them; their claws leave furrows that outlast them.
    scar = max(scar, fx.scar);
    trail *= 1.0 - fx.drone * 0.5;
    // The shield heals what it covers a little faster.
    scar *= 1.0 - clamp(fx.shield * u_dt, 0.0, 1.0);
    gl_FragColor = vec4(trail, scar);
}
