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
    float h = fract(m * 0.9 + fbm(cp * 1.8) * 1.4 + cp.x * 0.35 + u_time * 0.01) * 4.0;
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
    // Four neighbours about one simulation texel away (a fixed canvas scale, so the picture does
    // not change with the output size): a filament is trail standing above its surroundings,
    // and a scar's edge is where its neighbours are more scarred than here.
    vec2 d = vec2(1.2 / (540.0 * u_aspect), 1.2 / 540.0);
    vec4 ne = texture2D(u_trail, q + d);
    vec4 sw = texture2D(u_trail, q - d);
    vec4 nw = texture2D(u_trail, q + vec2(-d.x, d.y));
    vec4 se = texture2D(u_trail, q + vec2(d.x, -d.y));
    float around = 0.25 * (ne.r + sw.r + nw.r + se.r);
    float ridge = clamp((trail.r - around) / (0.15 + 0.5 * around), 0.0, 1.0);

    // Ground: dark umber and rust biowaste, lumpy, with scattered waste fragments.
    float lumps = fbm(cp * 7.0);
    float fibres = noise(cp * vec2(90.0, 14.0)) * noise(cp * vec2(12.0, 80.0));
    vec3 col = mix(pal_ground, pal_ground_alt, smoothstep(0.3, 0.8, lumps)) * (1.0 - grit * 0.35 * fibres);
    // Waste fragments: rusty flakes that fade as the hyphae digest them.
    col += pal_ground_alt * 0.22 * smoothstep(0.15, 0.7, f.r) * (0.3 + 0.7 * dots(cp * 40.0, 0.6));
    col = mix(col, col * 0.45 + pal_toxin * 0.08, smoothstep(0.15, 0.6, f.g + fx.toxin));

    // The hyphae: pale gold filaments. `fine` lights the faintest filament, `dens` grows with the
    // cords, `ridge` keeps the single filaments of a cord apart (a cord is a bundle, not a stroke).
    float fine = 1.0 - exp(-trail.r * 2.5 * hyphae_gain);
    float dens = 1.0 - exp(-trail.r * 0.5 * hyphae_gain);
    float grown = 1.0 - exp(-trail.b * 1.6);
    float thread = fine * 0.1 + pow(dens, 1.6) * (0.2 + 0.7 * ridge) + ridge * fine * 0.4;
    // The scars tear the filaments: a torn stretch goes dark, its frayed edges glow like embers.
    float scar = clamp(trail.a, 0.0, 1.0);
    float edge = clamp(0.25 * (ne.a + sw.a + nw.a + se.a) - scar * 0.6, 0.0, 1.0);
    float torn = scar * (0.6 + 0.4 * noise(cp * 140.0));
    thread *= 1.0 - torn;

    // The mural is grown, not laid on: the light of the filaments that crossed the mask takes its
    // colours (trail b over trail r is the mask the filaments carried, 0 where none grew), so the
    // image rises only where growth has reached and only as filaments; `reveal` lifts it from a
    // ghost in the growth (act 1) to full luminous colour. The mask glows faintly beneath, only
    // under the hyphae (an inner light, not a bitmap).
    float carried = smoothstep(0.04, 0.35, trail.b / max(trail.r, 0.02)) * fine;
    float inside = smoothstep(0.05, 0.45, m);
    vec3 mc = mural_colour(cp, m) * mural_gain;
    vec3 woven = mural_colour(cp * 0.6, 0.35 + 0.4 * dens) * 1.3;
    vec3 gold = mix(mix(pal_hyphae * 0.7, pal_hyphae_hot, grown), woven, weave * 0.8);
    float lit = carried * (0.15 + 0.85 * reveal);
    col += mix(gold, mc * 1.4, min(lit * 1.3, 1.0)) * thread * (1.0 + lit * (0.5 + reveal));
    col += mc * inside * dens * reveal * 0.12 * (1.0 - torn);
    col += pal_flora * f.a * 0.5 * (0.5 + 0.5 * noise(cp * 40.0)) + pal_flora * fx.bloom;

    // The network, carried by the hyphae: pulses run along the cords, nodes glow where filaments gather.
    col += pal_pulse * link.g * pulse_gain * (0.05 + 1.2 * dens + 0.5 * ridge);
    col += pal_node * node.b * (0.1 + dens) * ridge;

    // The corporation: cold steel-blue bars and grids reaching in from the edges.
    float border = min(min(p.x, 1.0 - p.x) * u_aspect, min(p.y, 1.0 - p.y));
    float reach = cold_grip * 0.35;
    float zone = falloff(reach * 0.6, reach, border) * step(0.001, cold_grip);
    vec2 g = fract(cp * 16.0);
    float grid = max(step(0.93, g.x), step(0.93, g.y));
    float bars = step(0.55, hash12(floor(cp * vec2(16.0, 4.0))));
    col = mix(col, pal_cold * (0.06 + 0.3 * grid + 0.12 * bars) + col * 0.4, zone * 0.85);

    // Scars left by the drones: burnt furrows that heal over time, ember-lit at their torn edges.
    col = mix(col, pal_ground * 0.3, scar * 0.7) + vec3(0.9, 0.3, 0.05) * edge * (0.3 + fine) * 0.8;

    // Events.
    col += pal_pulse * fx.surge * (0.3 + 2.0 * dens + lit);
    col += mix(pal_flora, pal_pulse, 0.5) * fx.purify;
    col += pal_node * fx.flare * 2.0;
    col = mix(col, pal_cold * 0.08, clamp(fx.drone, 0.0, 1.0));
    col += pal_cold * 0.6 * fx.drone * step(0.92, fract(dot(cp, vec2(30.0, 30.0))));
    col += pal_shield * fx.shield * (0.08 + 1.5 * thread);  // a clear light, brightest on the filaments it guards
    col = mix(col, static_noise(p, 1.0) * pal_cold * 1.5, clamp(fx.glitch, 0.0, 1.0) * 0.6);
    gl_FragColor = vec4(col, 1.0);
}
