/*{
  "DESCRIPTION": "The network's links (additive): r the strand, g pulses travelling from spiking nodes and the flow's ripple.",
  "VERTEX": "links.vert",
  "INPUTS": [
    {"NAME": "link_width", "TYPE": "float", "MIN": 0.0005, "MAX": 0.02, "DEFAULT": 0.004, "LABEL": "Link width", "UNIT": "height", "SMOOTHING": 0.5},
    {"NAME": "pulse_speed", "TYPE": "float", "MIN": 0.02, "MAX": 2.0, "DEFAULT": 0.35, "LABEL": "Pulse speed", "UNIT": "height/s", "SMOOTHING": 0.5},
    {"NAME": "pulse_length", "TYPE": "float", "MIN": 0.005, "MAX": 0.2, "DEFAULT": 0.03, "LABEL": "Pulse length", "UNIT": "height", "SMOOTHING": 0.5},
    {"NAME": "ripple", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.35, "LABEL": "Flow ripple", "SMOOTHING": 0.5},
    {"NAME": "surge", "TYPE": "event"}
  ]
}*/
#include "speed.glsl"

varying vec2 v_along;
varying vec4 v_link;
varying vec2 v_spikes;

float pulse(float head, float at) {
    float d = (at - head) / pulse_length;
    return head < 0.0 ? 0.0 : exp(-d * d) * exp(-head * 1.5);
}

void main() {
    float len = v_link.x;
    float flow = v_link.y;
    float across = v_along.y;
    float strand = exp(-across * across * 3.0) * (0.25 + 0.75 * v_link.z) * (0.3 + flow);
    float at = v_along.x * len;
    float travel = pulse_speed * speed;
    float pulses = pulse(v_spikes.x * travel, at) + pulse(v_spikes.y * travel, len - at);
    float wave = ripple * flow * pow(0.5 + 0.5 * sin(at * 90.0 - u_time * 6.0 * flow * speed), 4.0);
    float energy = (pulses * 2.0 + wave + surge * 1.5 * flow) * exp(-across * across * 2.0);
    gl_FragColor = vec4(strand, energy, 0.0, 0.0);
}
