/*{
  "DESCRIPTION": "The network's links (additive): r the strand, g pulses travelling from spiking nodes and the flow's ripple.",
  "VERTEX": "links.vert",
  "INPUTS": [
    {"NAME": "link_width", "TYPE": "float", "MIN": 0.0005, "MAX": 0.02, "DEFAULT": 0.004, "LABEL": "Link width", "UNIT": "height", "SMOOTHING": 0.5},
    {"NAME": "pulse_speed", "TYPE": "float", "MIN": 0.02, "MAX": 2.0, "DEFAULT": 0.35, "LABEL": "Pulse speed", "UNIT": "height/s", "SMOOTHING": 0.5},
    {"NAME": "pulse_length", "TYPE": "float", "MIN": 0.005, "MAX": 0.2, "DEFAULT": 0.03, "LABEL": "Pulse length", "UNIT": "height", "SMOOTHING": 0.5},
    {"NAME": "ripple", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.35, "LABEL": "Flow ripple", "SMOOTHING": 0.5},
    {"NAME": "meander", "TYPE": "float", "MIN": 0.0, "MAX": 0.04, "DEFAULT": 0.012, "LABEL": "Cord meander", "UNIT": "height", "DESCRIPTION": "how far a cord winds off the straight line between its nodes", "SMOOTHING": 0.5},
    {"NAME": "surge", "TYPE": "event"}
  ]
}*/
#include "common.glsl"
#include "speed.glsl"

varying vec2 v_along;   // (along 0..1, across in link widths: the quad is wider than the cord, see links.vert)
varying vec4 v_link;
varying vec2 v_spikes;
varying float v_phase;  // this link's own meander
varying float v_width;  // the cord's half width, height units

float pulse(float head, float at) {
    float d = (at - head) / pulse_length;
    return head < 0.0 ? 0.0 : exp(-d * d) * exp(-head * 1.5);
}

void main() {
    float len = v_link.x;
    float flow = v_link.y;
    // A cord winds between its nodes like a hypha, never as a ruled line: its centre swings
    // off the straight link by up to `meander`, pinned at both ends, about one bend per 0.12 of
    // the height (phase and bends differ per link). The cord hyphae follow this curve (they
    // sense the strand), so the cords themselves meander.
    float bends = max(1.0, floor(len / 0.12 + 0.5));
    float swing = sin(PI * v_along.x) * sin(PI * (bends * v_along.x + v_phase))
                + 0.35 * sin(PI * v_along.x) * sin(PI * (2.0 * bends + 1.0) * v_along.x + 5.0 * v_phase);
    float across = v_along.y - swing * meander / v_width;
    float strand = exp(-across * across * 3.0) * (0.25 + 0.75 * v_link.z) * (0.3 + flow);
    float at = v_along.x * len;
    float travel = pulse_speed * speed;
    float pulses = pulse(v_spikes.x * travel, at) + pulse(v_spikes.y * travel, len - at);
    float wave = ripple * flow * pow(0.5 + 0.5 * sin(at * 90.0 - u_time * 6.0 * flow * speed), 4.0);
    float energy = (pulses * 2.0 + wave + surge * 1.5 * flow) * exp(-across * across * 2.0);
    gl_FragColor = vec4(strand, energy, 0.0, 0.0);
}
