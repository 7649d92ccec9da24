/*{
  "DESCRIPTION": "Elara's mural: a luminous mural (the seed's mask) rising from dark umber biowaste where the hyphae grow; cold steel geometry at the edges.",
  "INPUTS": [
    {"NAME": "hyphae_gain", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Hyphae brightness", "SMOOTHING": 1.0},
    {"NAME": "reveal", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.2, "LABEL": "Mural revealed", "DESCRIPTION": "0: only a ghost in the growth; 1: fully luminous", "SMOOTHING": 3.0},
    {"NAME": "mural_gain", "TYPE": "float", "MIN": 0.0, "MAX": 3.0, "DEFAULT": 1.0, "LABEL": "Mural brightness", "SMOOTHING": 1.0},
    {"NAME": "cold_grip", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.3, "LABEL": "Cold geometry", "DESCRIPTION": "how far the corporation's steel-blue geometry reaches in from the edges", "SMOOTHING": 2.0},
    {"NAME": "pulse_gain", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Pulse brightness", "SMOOTHING": 0.5},
    {"NAME": "grit", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.6, "LABEL": "Biowaste texture", "SMOOTHING": 1.0},
    {"NAME": "weave", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.0, "LABEL": "Mural woven into the city", "DESCRIPTION": "the mural's colours run out along every thread and flow across the whole wall (the co-op)", "SMOOTHING": 3.0}
  ]
}*/
#include "scene.glsl"

vec3 mural_colour(vec2 cp, float m) {
    // Four mural colours cycle over the image: hue follows brightness and a slow drift.
    float h = fract(m * 1.3 + fbm(cp * 2.5) * 0.6 + cp.x * 0.15 + u_time * 0.01) * 4.0;
    vec3 a = mix(pal_mural_a, pal_mural_b, smoothstep(0.0, 1.0, h));
    vec3 b = mix(pal_mural_c, pal_mural_d, smoothstep(2.0, 3.0, h));
    vec3 c = mix(a, b, smoothstep(1.0, 2.0, h));
    return mix(c, pal_mural_a, smoothstep(3.0, 4.0, h));
}

void main() {
    vec2 p = canvas_point();
    Fx fx = fx_at(p);
    vec2 q = glitch_shift(p, fx.glitch);
    vec4 trail = texture2D(u_trail, q);
    vec4 f = texture2D(u_fields, q);
    vec4 node = texture2D(u_nodes, q);
    vec4 link = texture2D(u_links, q);
    float m = texture2D(u_mask, q).r;
    vec2 cp = p * vec2(u_aspect, 1.0);

    // Ground: dark umber and rust biowaste, lumpy, with scattered waste fragments.
    float lumps = fbm(cp * 7.0);
    float fibres = noise(cp * vec2(90.0, 14.0)) * noise(cp * vec2(12.0, 80.0));
    vec3 col = mix(pal_ground, pal_ground_alt, smoothstep(0.3, 0.8, lumps)) * (1.0 - grit * 0.35 * fibres);
    // Waste fragments: rusty flakes that fade as the hyphae digest them.
    col += pal_ground_alt * 0.3 * smoothstep(0.15, 0.7, f.r) * (0.4 + 0.6 * dots(cp * 40.0, 0.6));
    col = mix(col, col * 0.45 + pal_toxin * 0.08, smoothstep(0.15, 0.6, f.g + fx.toxin));

    // The hyphae: pale gold threads; they glow brighter where they cross the mural. Woven
    // into the city, they carry the mural's own colours out across the wall. `fine` lights the
    // faintest filament, `dens` grows with the cords.
    float fine = 1.0 - exp(-trail.r * 2.5 * hyphae_gain);
    float dens = 1.0 - exp(-trail.r * 0.5 * hyphae_gain);
    float grown = 1.0 - exp(-trail.b * 1.6);
    vec3 woven = mural_colour(cp * 0.6, 0.35 + 0.4 * dens) * 1.3;
    vec3 thread = mix(mix(pal_hyphae * 0.7, pal_hyphae_hot, grown), woven, weave * 0.8);
    col += thread * (fine * 0.12 + pow(dens, 1.6) * (0.9 + 0.5 * weave) + dens * 0.1);

    // The mural is grown, not laid on: its colour lives in the filaments that crossed the mask
    // (trail b, torn where the drones scar them and back as they regrow), brighter as the act
    // reveals it; between the filaments only a faint wash and the ghost of its outline.
    float mx = texture2D(u_mask, q + vec2(0.004 / u_aspect, 0.0)).r - texture2D(u_mask, q - vec2(0.004 / u_aspect, 0.0)).r;
    float my = texture2D(u_mask, q + vec2(0.0, 0.004)).r - texture2D(u_mask, q - vec2(0.0, 0.004)).r;
    float outline = clamp(length(vec2(mx, my)) * 4.0, 0.0, 1.0);
    float inside = smoothstep(0.05, 0.45, m);
    float filaments = (1.0 - exp(-trail.b * 3.0)) * (0.35 + reveal);
    float lit = clamp(filaments + 0.08 * reveal * grown, 0.0, 1.0) * inside;
    vec3 mc = mural_colour(cp, m);
    col = mix(col, col * 0.5 + mc * (0.3 + 0.7 * m) * mural_gain * 1.4, lit * 0.9);
    col += mc * inside * reveal * 0.04 * mural_gain;
    col += mc * outline * (0.1 + 0.25 * (1.0 - reveal)) * mural_gain;
    col += pal_flora * f.a * 0.5 * (0.5 + 0.5 * noise(cp * 40.0)) + pal_flora * fx.bloom;

    // The network: cyan pulses along strands, warm node lights.
    col += pal_pulse * link.g * pulse_gain * (0.1 + 1.5 * dens + 0.4 * fine);  // pulses travel along the cords
    col += pal_node * (node.b * 1.2 * (0.3 + dens) + node.g * 0.03);

    // The corporation: cold steel-blue bars and grids reaching in from the edges.
    float edge = min(min(p.x, 1.0 - p.x) * u_aspect, min(p.y, 1.0 - p.y));
    float reach = cold_grip * 0.35;
    float zone = falloff(reach * 0.6, reach, edge) * step(0.001, cold_grip);
    vec2 g = fract(cp * 16.0);
    float grid = max(step(0.93, g.x), step(0.93, g.y));
    float bars = step(0.55, hash12(floor(cp * vec2(16.0, 4.0))));
    col = mix(col, pal_cold * (0.06 + 0.3 * grid + 0.12 * bars), zone * 0.85);

    // Scars left by the drones: burnt rust furrows that heal over time.
    float scar = clamp(trail.a, 0.0, 1.0);
    float burn = clamp(texture2D(u_trail, q + vec2(0.006, 0.004)).a - scar, 0.0, 1.0);
    col = mix(col, pal_ground * 0.3, scar * 0.9) + vec3(0.9, 0.3, 0.05) * burn * 0.6;

    // Events.
    col += pal_pulse * fx.surge * (0.4 + 2.0 * dens + lit);
    col += mix(pal_flora, pal_pulse, 0.5) * fx.purify;
    col += pal_node * fx.flare * 2.0;
    col = mix(col, pal_cold * 0.08, clamp(fx.drone, 0.0, 1.0));
    col += pal_cold * 0.6 * fx.drone * step(0.92, fract(dot(cp, vec2(30.0, 30.0))));
    col += pal_shield * fx.shield * 0.8;
    col = mix(col, static_noise(p, 1.0) * pal_cold * 1.5, clamp(fx.glitch, 0.0, 1.0) * 0.6);
    gl_FragColor = vec4(col, 1.0);
}
