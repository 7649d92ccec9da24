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

uniform vec2 u_trail_texel;  // one simulation pixel, to read the trail's fine structure

void main() {
    vec2 p = canvas_point();
    Fx fx = fx_at(p);
    vec4 trail = texture2D(u_trail, p);
    vec4 f = texture2D(u_fields, p);
    vec4 node = texture2D(u_nodes, p);
    vec4 link = texture2D(u_links, p);
    vec2 cp = p * vec2(u_aspect, 1.0);

    // Ground: blue-black soil with a faint texture and warm patches of undigested waste.
    float soil = noise(cp * 6.0) * 0.6 + noise(cp * 13.0) * 0.4;
    vec3 col = mix(pal_ground, pal_ground_alt, soil * 0.8);
    col += pal_hyphae_hot * 0.22 * smoothstep(0.1, 0.8, f.r) * (0.6 + 0.4 * soil);

    // Toxin pools: a dark violet hollow with a sickly glowing rim.
    float tox = clamp(f.g + fx.toxin, 0.0, 1.5);
    float pool = smoothstep(0.12, 0.55, tox);
    float rim = smoothstep(0.08, 0.3, tox) * (1.0 - smoothstep(0.3, 0.7, tox));
    float swirl = fbm(cp * 9.0 + vec2(u_time * 0.05, -u_time * 0.04));
    col = mix(col, pal_toxin * 0.04, pool * 0.9);
    col += pal_toxin * toxin_glow * (rim * 0.35 + pool * (0.03 + 0.2 * swirl * swirl));

    // Festival colours: broad regions, drifting slowly, each take one of the festival's art
    // colours (gold, magenta, cyan, green); flora and threads lean toward their region's.
    float region = (noise(cp * 2.2 + vec2(u_time * 0.021, -u_time * 0.017)) - 0.5) * 6.0 + 1.5;
    vec3 art = mix(mix(mix(pal_mural_a, pal_mural_b, smoothstep(0.3, 0.7, region)),
                       pal_mural_c, smoothstep(1.3, 1.7, region)), pal_mural_d, smoothstep(2.3, 2.7, region));

    // The hyphae. `ridge` is how far this point of the trail stands above the simulation pixels
    // around it (two bilinear reads cover eight of them): a filament's crest, the separate lanes
    // inside a cord (deposit.frag's braid), a tip's track. The light lives on those crests, so a
    // cord reads as a bundle of fine filaments and its even body stays dim (no neon stroke).
    vec2 t = u_trail_texel * 0.5;
    float around = 0.5 * (texture2D(u_trail, p + t).r + texture2D(u_trail, p - t).r);
    float ridge = clamp((trail.r - around) / (trail.r + 0.08), 0.0, 1.0);
    float fine = 1.0 - exp(-trail.r * 10.0 * hyphae_gain);   // lights the faintest filament
    float dens = 1.0 - exp(-trail.r * 0.35 * hyphae_gain);  // grows with the cords
    float strand = fine * (0.1 + 2.8 * ridge);

    // Flora: fresh green lichen on the filaments where the ground heals (it grows from the
    // hyphae), and bloom bursts.
    float flora = clamp(f.a * flora_gain, 0.0, 1.0);
    float buds = dots(cp * 70.0, 0.22 + 0.12 * f.a);
    vec3 flora_col = mix(pal_flora, art * 1.2, fiesta * 0.85);
    col += flora_col * (flora * (0.05 * soil + buds * (0.08 + 0.3 * fine)) + fx.bloom * (0.15 + 0.9 * strand + 0.25 * buds));
    col += art * fiesta * 0.03 * (0.4 + flora);

    // Colour: teal threads that warm to amber where thick and at the knots (nodes); sour to
    // violet where they fed on toxin.
    float sour = clamp((trail.g / (trail.r + 0.05) + tox) * sourness, 0.0, 1.0);
    float knot = clamp(node.g * 1.5, 0.0, 1.0);
    float warm = warmth * clamp(smoothstep(0.45, 0.95, dens) + 2.0 * f.a + knot, 0.0, 1.0);
    vec3 thread = mix(pal_hyphae, pal_hyphae_hot, warm);
    thread = mix(thread, mix(pal_toxin, pal_hyphae_hot, 0.25) * 1.3, sour * 0.85);
    thread = mix(thread, art * 1.2, fiesta * 0.6 * (1.0 - sour));
    float breathe = 1.0 + breath * 0.3 * sin(u_time * 0.6);

    // Dissent (the look's flicker at the edges, interference, the drones' passage): the
    // filaments break into fragments that blink out, cell by cell; nothing is drawn over them.
    float edge = 1.0 - min(min(p.x, 1.0 - p.x) * u_aspect, min(p.y, 1.0 - p.y)) * 3.0;
    float unrest = clamp(flicker * clamp(edge, 0.0, 1.0) + fx.glitch * 0.7 + fx.drone * 0.8, 0.0, 1.0);
    float flick = unrest * step(0.45, hash12(floor(cp * 60.0) + floor(u_time * 9.0)));

    // Bioluminescence: each filament glows from within, a deep cool light in the faint ones
    // that warms toward the cores of the cords; a soft haze of the cords' body gives depth
    // (the glow pass adds the halo).
    vec3 faint = mix(thread, pal_hyphae * vec3(0.5, 0.8, 1.2), 0.5 * (1.0 - dens));
    vec3 light = faint * strand * 0.55 + thread * (dens * 0.10 + dens * dens * strand * 0.5);
    // The drones' furrows tear the filaments they crossed (dark only where hyphae were).
    float torn = clamp(trail.a, 0.0, 1.0) * 0.8;
    col += light * breathe * (1.0 - flick) * (1.0 - 0.6 * pool) * (1.0 - torn);

    // The network: pulses are light running along the filaments of the cords (the links
    // gather the hyphae, they are not drawn); nodes are knots where the cords meet, lit in
    // their filaments, not dots.
    col += pal_pulse * link.g * pulse_gain * strand * (0.3 + 1.2 * dens);
    col += pal_node * node.b * strand * (0.2 + 0.5 * dens);

    // Events, carried by the hyphae: the surge lights the filaments as it sweeps through.
    col += pal_pulse * fx.surge * (0.06 + 1.2 * strand + 0.3 * dens);
    col += mix(pal_flora, pal_pulse, 0.4) * fx.purify * (0.25 + strand);
    col += pal_node * fx.flare * (0.3 + 1.5 * strand);
    col += pal_shield * fx.shield;
    gl_FragColor = vec4(col, 1.0);
}
