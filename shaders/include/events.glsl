/*{
  "DESCRIPTION": "Transient event layers: Fx fx_at(vec2 p).",
  "INPUTS": [
    {"NAME": "event_gain", "PARAM": "render.events", "TYPE": "float", "MIN": 0.0, "MAX": 2.0, "DEFAULT": 1.0, "LABEL": "Event intensity", "UNIT": "x", "DESCRIPTION": "strength of the transient event layers", "SMOOTHING": 0.3}
  ]
}*/
// Transient event layers. The renderer keeps the recent events in u_events, a 32x2 float
// texture: row 0 = (kind code, x, y, age s), row 1 = (strength, duration s, seed, turn age s).
// x < 0 means "the whole canvas" (the centre for waves). Kind codes are the EV_* defines.
#include "common.glsl"

#define EVENT_SLOTS 32
uniform sampler2D u_events;
uniform float u_event_count;

struct Fx {
    float surge;    // bright ring travelling outward
    float toxin;    // dark pool appearing
    float purify;   // cleansing ring
    float bloom;    // flora burst
    float drone;    // hard dark drone shapes
    float shield;   // hexagonal light
    float glitch;   // interference / static
    float flare;    // a node joining
    float scar;     // the furrow a drone's claw cuts
};

vec4 ev_row(float i, float row) {
    return texture2D(u_events, vec2((i + 0.5) / float(EVENT_SLOTS), row * 0.5 + 0.25));
}

bool is_kind(float code, float kind) {
    return abs(code - kind) < 0.5;
}

vec2 ev_centre(vec4 a) {
    return a.y < 0.0 ? vec2(0.5, 0.5) : a.yz;
}

// Hard chevrons of one disruption (x) and the furrows their claws cut (y): drones fly
// across, turned back once a shield rises.
vec2 drones(vec2 p, vec4 a, vec4 b) {
    float total = 0.0;
    float claw = 0.0;
    float count = 2.0 + floor(b.x * 1.5);
    float travel = a.w - 2.0 * max(0.0, a.w - b.w);
    for (int j = 0; j < 8; j++) {
        float fj = float(j);
        if (fj >= count) break;
        vec2 rnd = hash22(vec2(b.z * 13.1 + fj, fj * 7.3));
        // Enter from the left or right edge at a random height, heading across and a little down/up.
        float side = rnd.x < 0.5 ? -1.0 : 1.0;
        vec2 start = vec2(side < 0.0 ? -0.1 : 1.1, 0.15 + 0.7 * rnd.y);
        vec2 dir = normalize(vec2(-side * u_aspect, (rnd.y - 0.5) * 0.6));
        vec2 pos = start + vec2(dir.x / u_aspect, dir.y) * (0.16 + 0.08 * rnd.x) * (travel - fj * 0.35);
        vec2 d = (p - pos) * vec2(u_aspect, 1.0);
        float along = dot(d, dir);
        float across = dot(d, vec2(-dir.y, dir.x));
        // A chevron: a wide triangle with a notch at the back.
        float size = 0.05 + 0.025 * b.x;
        float tri = step(abs(across), (size - along) * 0.8) * step(-size, along) * step(along, size);
        float notch = step(abs(across), (-along - size * 0.2) * 0.8);
        total = max(total, tri * (1.0 - notch));
        claw = max(claw, step(abs(across), 0.005) * step(abs(along - size), 0.012));
    }
    return vec2(total, claw);
}

Fx fx_at(vec2 p) {
    Fx fx = Fx(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
#ifdef CALM
    // The renderer's build of this program for frames with no event to show: on llvmpipe the
    // loop below costs a pass through every kind's code even when it runs zero times.
    return fx;
#endif
    for (int i = 0; i < EVENT_SLOTS; i++) {
        float fi = float(i);
        if (fi >= u_event_count) break;
        vec4 a = ev_row(fi, 0.0);
        vec4 b = ev_row(fi, 1.0);
        float age = a.w;
        float life = clamp(age / b.y, 0.0, 1.0);
        float fade = 1.0 - life;
        float s = b.x * event_gain;
        vec2 c = ev_centre(a);
        float r = canvas_dist(p, c);
        if (is_kind(a.x, EV_SURGE) || is_kind(a.x, EV_SPIKE_BURST)) {
            // A surge sweeps the whole canvas; a burst of spikes is a small local ripple.
            bool big = is_kind(a.x, EV_SURGE);
            float radius = age * (big ? 0.45 : 0.08);
            float width = big ? 0.03 + 0.05 * life : 0.02;
            float ring = exp(-pow((r - radius) / width, 2.0)) + 0.35 * falloff(0.0, radius, r) * fade;
            fx.surge += s * fade * ring * (big ? 1.0 : 0.35);
        } else if (is_kind(a.x, EV_TOXIN_CLUSTER)) {
            float radius = (0.1 + 0.08 * b.x) * smoothstep(0.0, 2.5, age);
            float wobble = 1.0 + 0.25 * (noise((p - c) * 14.0 + b.z) - 0.5);
            fx.toxin += s * falloff(radius * 0.3, radius * wobble, r) * min(1.0, fade * 3.0);
        } else if (is_kind(a.x, EV_PURIFICATION) || is_kind(a.x, EV_CLUSTER_PURIFIED)) {
            float radius = age * 0.12;
            fx.purify += s * fade * exp(-pow((r - radius) / 0.05, 2.0));
        } else if (is_kind(a.x, EV_BLOOM)) {
            float angle = atan(p.y - c.y, (p.x - c.x) * u_aspect);
            float petal = 0.5 + 0.5 * cos(angle * 7.0 + b.z * 6.28);
            float radius = (0.08 + 0.1 * b.x) * smoothstep(0.0, 3.0, age);
            fx.bloom += s * min(1.0, fade * 2.0) * falloff(radius * 0.2, radius, r * (1.0 + 0.6 * petal));
        } else if (is_kind(a.x, EV_DISRUPTION)) {
            vec2 hit = drones(p, a, b) * min(1.0, fade * 4.0);
            fx.drone = max(fx.drone, hit.x);
            fx.scar = max(fx.scar, hit.y);
        } else if (is_kind(a.x, EV_SHIELD)) {
            float radius = (0.25 + 0.2 * b.x) * smoothstep(0.0, 1.5, age);
            float inside = falloff(radius - 0.04, radius, r);
            float edge = falloff(0.0, 0.06, hex_edge((p - c) * vec2(u_aspect, 1.0), 0.06));
            float rim = exp(-pow((r - radius) / 0.015, 2.0));
            fx.shield += s * min(1.0, fade * 3.0) * (inside * (0.04 + 0.5 * edge) + rim);
        } else if (is_kind(a.x, EV_INTERFERENCE)) {
            float edge = min(min(p.x, 1.0 - p.x) * u_aspect, min(p.y, 1.0 - p.y));
            float reach = (0.06 + 0.18 * b.x) * smoothstep(0.0, 3.0, age);
            float near = a.y < 0.0 ? falloff(0.0, reach, edge) : falloff(0.0, reach * 1.5, r);
            float band = step(0.55, hash12(vec2(floor(p.y * 70.0), floor(u_time * 14.0) + b.z)));
            fx.glitch += s * fade * near * band;
        } else if (is_kind(a.x, EV_NODE_JOINED) || is_kind(a.x, EV_LINK_FUSED)) {
            float radius = age * 0.08;
            fx.flare += s * fade * (exp(-pow((r - radius) / 0.012, 2.0)) + 2.0 * exp(-r * r / 0.0004) * fade);
        } else if (is_kind(a.x, EV_NODE_LOST)) {
            fx.drone = max(fx.drone, fade * 0.5 * exp(-r * r / 0.001));
        }
    }
    return fx;
}
