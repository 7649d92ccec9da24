/*{
  "DESCRIPTION": "Kai's festival: a bioluminescent city network at night. Teal and amber hyphae on blue-black, violet toxin pools, fresh green flora.",
  "INPUTS": [
    {"NAME": "hyphae_gain", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Hyphae brightness", "SMOOTHING": 1.0},
    {"NAME": "warmth", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.5, "LABEL": "Amber warmth", "DESCRIPTION": "how much thick hyphae turn amber", "SMOOTHING": 1.0},
    {"NAME": "pulse_gain", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0, "LABEL": "Pulse brightness", "SMOOTHING": 0.5},
    {"NAME": "toxin_glow", "TYPE": "float", "MIN": 0.0, "MAX": 3.0, "DEFAULT": 1.0, "LABEL": "Toxin glow", "SMOOTHING": 1.0},
    {"NAME": "sourness", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 1.0, "LABEL": "Sour colour near toxins", "SMOOTHING": 1.0},
    {"NAME": "flora_gain", "TYPE": "float", "MIN": 0.0, "MAX": 3.0, "DEFAULT": 1.0, "LABEL": "Flora", "SMOOTHING": 1.0},
    {"NAME": "flicker", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.0, "LABEL": "Edge flicker", "DESCRIPTION": "the network fragments and flickers at the edges (dissent)", "SMOOTHING": 1.0},
    {"NAME": "breath", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.15, "LABEL": "Breathing", "DESCRIPTION": "slow global swell of the light", "SMOOTHING": 1.0},
    {"NAME": "fiesta", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.0, "LABEL": "Festival colours", "DESCRIPTION": "flora and threads take the festival's art colours, in broad drifting regions (the renaissance)", "SMOOTHING": 3.0}
  ]
}*/
#include "scene.glsl"

void main() {
    vec2 p = canvas_point();
    Fx fx = fx_at(p);
    vec2 q = glitch_shift(p, fx.glitch);
    vec4 trail = texture2D(u_trail, q);
    vec4 f = texture2D(u_fields, q);
    vec4 node = texture2D(u_nodes, q);
    vec4 link = texture2D(u_links, q);
    vec2 cp = p * vec2(u_aspect, 1.0);

    // Ground: blue-black soil with a faint texture and warm patches of undigested waste.
    float soil = fbm(cp * 6.0);
    vec3 col = mix(pal_ground, pal_ground_alt, soil * 0.8);
    col += pal_hyphae_hot * 0.22 * smoothstep(0.1, 0.8, f.r) * (0.6 + 0.4 * fbm(cp * 20.0));

    // Toxin pools: a dark violet hollow with a sickly glowing rim.
    float tox = clamp(f.g + fx.toxin, 0.0, 1.5);
    float pool = smoothstep(0.12, 0.55, tox);
    float rim = smoothstep(0.08, 0.3, tox) * (1.0 - smoothstep(0.3, 0.7, tox));
    float swirl = fbm(cp * 9.0 + vec2(u_time * 0.05, -u_time * 0.04));
    col = mix(col, pal_toxin * 0.04, pool * 0.9);
    col += pal_toxin * toxin_glow * (rim * 0.5 + pool * (0.03 + 0.3 * swirl * swirl));

    // Festival colours: broad regions, drifting slowly, each take one of the festival's art
    // colours (gold, magenta, cyan, green); flora and threads lean toward their region's.
    float region = (fbm(cp * 2.2 + vec2(u_time * 0.021, -u_time * 0.017)) - 0.5) * 9.0 + 1.5;  // fbm gathers near 0.5
    vec3 art = mix(mix(mix(pal_mural_a, pal_mural_b, smoothstep(0.3, 0.7, region)),
                       pal_mural_c, smoothstep(1.3, 1.7, region)), pal_mural_d, smoothstep(2.3, 2.7, region));

    // Flora: fresh green lichen cells where the ground heals, and bloom bursts.
    float buds = dots(cp * 70.0, 0.3 + 0.15 * f.a) * (0.5 + 0.5 * noise(cp * 9.0));
    float moss = fbm(cp * 25.0);
    float flora = clamp(f.a * flora_gain, 0.0, 1.0);
    vec3 flora_col = mix(pal_flora, art * 1.2, fiesta * 0.85);
    col += flora_col * (flora * (0.10 * moss + 0.9 * buds) + fx.bloom * (0.3 + 1.5 * buds));
    col += art * fiesta * 0.05 * (0.4 + flora);

    // Hyphae: teal threads that warm to amber where thick; sour to violet where they fed on toxin.
    // Two readings of the one trail: `fine` lights the faintest filament (the exploring tips and
    // their dying traces), `dens` grows with the cords bundled from many hyphae.
    float fine = 1.0 - exp(-trail.r * 2.5 * hyphae_gain);
    float dens = 1.0 - exp(-trail.r * 0.35 * hyphae_gain);
    float sour = clamp((trail.g / (trail.r + 0.05) + tox) * sourness, 0.0, 1.0);
    // Thick strands and strands through flora warm to amber: the network fruiting.
    float warm = warmth * clamp(smoothstep(0.45, 0.95, dens) + 2.0 * f.a, 0.0, 1.0);
    vec3 thread = mix(pal_hyphae, pal_hyphae_hot, warm);
    thread = mix(thread, mix(pal_toxin, pal_hyphae_hot, 0.25) * 1.3, sour * 0.85);
    thread = mix(thread, art * 1.2, fiesta * 0.7 * (1.0 - sour));
    float breathe = 1.0 + breath * 0.35 * sin(u_time * 0.6);
    // Dissent: the outer network breaks up and flickers.
    float edge = 1.0 - min(min(p.x, 1.0 - p.x) * u_aspect, min(p.y, 1.0 - p.y)) * 3.0;
    float flick = flicker * clamp(edge, 0.0, 1.0) * step(0.5, hash12(floor(cp * 40.0) + floor(u_time * 9.0)));
    // Bioluminescence: faint filaments glow a deep, cool version of their colour; the light
    // gathers and warms toward the cores of the cords (the glow pass adds the halo).
    vec3 faint = mix(thread, pal_hyphae * vec3(0.5, 0.8, 1.2), 0.5);
    vec3 light = faint * fine * 0.3 + thread * (dens * dens * 0.8 + dens * 0.12);
    col += light * breathe * (1.0 - flick) * (1.0 - 0.6 * pool);

    // The network: pulses travel as light along the cords (the links gather the hyphae, they
    // are not drawn); nodes are the knots where cords meet, with a small warm core.
    col += pal_pulse * link.g * pulse_gain * (0.1 + 1.6 * dens + 0.4 * fine);
    col += pal_node * (node.b * 0.8 * (0.3 + dens) + node.g * node.g * 0.03);

    // Events.
    col += pal_pulse * fx.surge * (0.5 + 2.5 * dens);
    col += mix(pal_flora, pal_pulse, 0.4) * fx.purify;
    col += pal_node * fx.flare * 2.0;
    col += pal_shield * fx.shield;
    col = mix(col, vec3(0.004, 0.004, 0.01), clamp(fx.drone, 0.0, 1.0));
    col = mix(col, col * vec3(0.6, 0.25, 0.2), clamp(trail.a, 0.0, 1.0) * 0.8);
    col += static_noise(p, fx.glitch) * 0.5;
    gl_FragColor = vec4(col, 1.0);
}
