/*{
  "DESCRIPTION": "Physarum agent update: each texel is one agent (x, y, heading, seed). Agents sense ahead, turn toward what attracts them and move.",
  "INPUTS": [
    {"NAME": "sensor_angle", "TYPE": "float", "MIN": 0.05, "MAX": 1.5, "DEFAULT": 0.6, "LABEL": "Sensor angle", "UNIT": "rad", "SMOOTHING": 0.5},
    {"NAME": "sensor_distance", "TYPE": "float", "MIN": 0.002, "MAX": 0.08, "DEFAULT": 0.01, "LABEL": "Sensor distance", "UNIT": "height", "SMOOTHING": 0.5},
    {"NAME": "turn_speed", "TYPE": "float", "MIN": 0.0, "MAX": 30.0, "DEFAULT": 9.0, "LABEL": "Turn speed", "UNIT": "rad/s", "SMOOTHING": 0.5},
    {"NAME": "step_size", "TYPE": "float", "MIN": 0.0, "MAX": 0.5, "DEFAULT": 0.06, "LABEL": "Agent speed", "UNIT": "height/s", "SMOOTHING": 0.5},
    {"NAME": "wander", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.1, "LABEL": "Wander", "SMOOTHING": 0.5},
    {"NAME": "density_follow", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 0.4, "LABEL": "Trail following", "DESCRIPTION": "how strongly existing hyphae reinforce themselves", "SMOOTHING": 0.5},
    {"NAME": "waste_attract", "TYPE": "float", "MIN": 0.0, "MAX": 8.0, "DEFAULT": 2.0, "LABEL": "Waste attraction", "SMOOTHING": 0.5},
    {"NAME": "toxin_response", "TYPE": "float", "MIN": -8.0, "MAX": 8.0, "DEFAULT": 2.0, "LABEL": "Toxin response", "DESCRIPTION": "positive: hyphae avoid toxins; negative: they feed on them", "SMOOTHING": 0.5},
    {"NAME": "node_pull", "TYPE": "float", "MIN": 0.0, "MAX": 8.0, "DEFAULT": 2.5, "LABEL": "Node pull", "DESCRIPTION": "attraction of active nodes", "SMOOTHING": 0.5},
    {"NAME": "mask_follow", "TYPE": "float", "MIN": 0.0, "MAX": 8.0, "DEFAULT": 0.0, "LABEL": "Mural following", "DESCRIPTION": "attraction of the mural mask", "SMOOTHING": 1.0},
    {"NAME": "scar_avoid", "TYPE": "float", "MIN": 0.0, "MAX": 8.0, "DEFAULT": 1.0, "LABEL": "Scar avoidance", "DESCRIPTION": "how much hyphae shun the drones' scars", "SMOOTHING": 0.5},
    {"NAME": "respawn", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.04, "LABEL": "Respawn at nodes", "UNIT": "1/s", "SMOOTHING": 0.5},
    {"NAME": "link_follow", "TYPE": "float", "MIN": 0.0, "MAX": 8.0, "DEFAULT": 0.3, "LABEL": "Cord following", "DESCRIPTION": "how strongly the network's links gather hyphae into cords", "SMOOTHING": 0.5},
    {"NAME": "explorers", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.45, "LABEL": "Exploring tips", "DESCRIPTION": "share of the hyphae that roam the ground between the cords at a finer scale", "SMOOTHING": 1.0},
    {"NAME": "tip_life", "TYPE": "float", "MIN": 1.0, "MAX": 120.0, "DEFAULT": 14.0, "LABEL": "Tip life", "UNIT": "s", "DESCRIPTION": "how long an exploring tip grows before it dies back and sprouts elsewhere", "SMOOTHING": 0.5}
  ]
}*/
#include "common.glsl"
#include "speed.glsl"

uniform sampler2D u_agents;   // this texture: agent states
uniform sampler2D u_trail;    // r: hyphal density, g: sour, b: mural, a: scar
uniform sampler2D u_fields;   // waste, toxin, density, flora from the world frame
uniform sampler2D u_nodes;    // splatted nodes: r activity-weighted pull, g presence
uniform sampler2D u_mask;     // the mural mask (0 when the seed has none)
uniform sampler2D u_node_list;// node i at texel i: (x, y, activity, live)
uniform sampler2D u_links;    // the network's links: r strand
uniform sampler2D u_guide;    // guide() at every simulation pixel, made by this file's GUIDE build
uniform float u_node_count;
varying vec2 v_uv;

// What attracts the hyphae at p. The renderer runs this file twice a frame: built with GUIDE it
// paints guide() over the simulation grid (reads in order, cheap), and the agents then sense
// that one texture (a read at a scattered point costs far more on a CPU rasteriser than four
// in order: measured, benchmarks/bench_physarum.py).
// r: the cord hyphae's guide, everything that draws the network together; g: the exploring
// tips', their own trail and the ground they feed on (no nodes, links or waste): alone they
// weave the fine labyrinth of young physarum, which holds as long as the show runs (with the
// cords' attractors the tips drained into the cords within a minute and the ground emptied).
vec2 guide(vec2 p) {
    vec4 trail = texture2D(u_trail, p);
    vec4 f = texture2D(u_fields, p);
    vec4 n = texture2D(u_nodes, p);
    float m = texture2D(u_mask, p).r;
    float ground = density_follow * trail.r / (1.0 + trail.r) - toxin_response * f.g + mask_follow * m
                 - scar_avoid * trail.a;
    float network = link_follow * min(texture2D(u_links, p).r, 1.0) + waste_attract * f.r + node_pull * n.r
                  + 0.6 * f.b;
    return vec2(ground + network, ground);
}

vec2 step_dir(float heading) {
    return vec2(cos(heading) / u_aspect, sin(heading));
}

#ifdef GUIDE
void main() {
    gl_FragColor = vec4(guide(v_uv), 0.0, 1.0);
}
#else
float sense(vec2 p, vec2 pick) {
    return dot(texture2D(u_guide, p).rg, pick);
}

void main() {
    vec4 agent = texture2D(u_agents, v_uv);
    vec2 pos = agent.xy;
    float heading = agent.z;
    float seed = agent.w;
    vec2 rnd = hash22(v_uv * 4096.0 + vec2(u_frame * 0.618, seed * 97.0));
    float dt = u_dt * speed;
    // Two kinds of hyphae, as in multi-scale physarum (one agent's kind is fixed by its seed):
    // cord hyphae follow the whole guide and bundle along the links; exploring tips sense only
    // the ground's (guide().g), turn more slowly and wander, tracing a fine labyrinth of curving
    // filaments between the cords, and they live briefly (below), so they never all collapse
    // into the cords.
    bool tip = seed < explorers;
    vec2 pick = tip ? vec2(0.0, 1.0) : vec2(1.0, 0.0);  // which guide this agent senses

    // One sine and cosine for the three sensors: the side ones are the forward one rotated.
    vec2 ahead = vec2(cos(heading), sin(heading));
    vec2 side = vec2(cos(sensor_angle), sin(sensor_angle));
    vec2 reach = vec2(sensor_distance / u_aspect, sensor_distance);
    float forward = sense(pos + ahead * reach, pick);
    float left = sense(pos + vec2(ahead.x * side.x - ahead.y * side.y, ahead.y * side.x + ahead.x * side.y) * reach, pick);
    float right = sense(pos + vec2(ahead.x * side.x + ahead.y * side.y, ahead.y * side.x - ahead.x * side.y) * reach, pick);
    float turn = turn_speed * dt * (tip ? 0.6 : 1.0);
    if (forward >= left && forward >= right) {
        heading += (rnd.x - 0.5) * wander * turn;
    } else if (forward < left && forward < right) {
        heading += (rnd.x < 0.5 ? -1.0 : 1.0) * turn;
    } else if (left > right) {
        heading += turn;
    } else {
        heading -= turn;
    }
    heading += (rnd.y - 0.5) * (tip ? 0.3 : wander * 0.5);
    pos += step_dir(heading) * step_size * dt * (0.7 + 0.6 * seed);

    // A few agents start again at a node each second, so growth keeps spreading from the nodes;
    // so do those that leave the canvas (bouncing would draw a frame, wrapping would jump).
    // Tips die back after about tip_life seconds and sprout again anywhere: their old paths
    // fade to faint traces while new ones branch off, so the ground never empties.
    bool outside = pos.x < 0.0 || pos.x > 1.0 || pos.y < 0.0 || pos.y > 1.0;
    vec2 r2 = hash22(vec2(seed * 311.0, u_frame * 1.3) + v_uv * 977.0);
    if (tip && (outside || r2.x < dt / tip_life)) {
        pos = hash22(r2 * 131.0 + seed + u_frame * 0.37);
        heading = rnd.y * 2.0 * PI;
    } else if (outside && u_node_count <= 0.0) {
        pos = hash22(r2 * 131.0 + seed);
    } else if (outside || (u_node_count > 0.0 && r2.x < respawn * dt)) {
        float index = floor(r2.y * u_node_count);
        vec4 node = texture2D(u_node_list, vec2((index + 0.5) / 1024.0, 0.5));
        heading = rnd.y * 2.0 * PI;
        pos = node.xy + step_dir(heading) * 0.01 * rnd.x;
    }
    gl_FragColor = vec4(pos, mod(heading, 2.0 * PI), seed);
}
#endif
