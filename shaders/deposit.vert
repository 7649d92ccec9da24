// One line segment per agent, along this frame's step: from where it was to where it is, both
// read from the agent textures (vertex texture fetch). Points left dotted trails wherever an
// agent moves over a simulation pixel a frame (about 2 px at 10-15 fps); a segment lays the
// filament whole, and its deposit is spread over the pixels it covers.
attribute vec2 a_index;       // the agent's texel centre in the agent texture
attribute float a_end;        // 0: the segment's tail (the agent before its step), 1: its head
uniform sampler2D u_agents;   // the agents after their step
uniform sampler2D u_before;   // the same agents before it
uniform sampler2D u_fields;
uniform sampler2D u_mask;     // the mural mask: cords fray wider on it
uniform float u_coverage;    // simulation pixels per agent: keeps density independent of quality
varying vec4 v_deposit;

#include "common.glsl"

// An agent's place in simulation pixels, moved into its lane: each hypha keeps to one of seven
// lanes beside its path (by its seed), so hyphae sharing a path lay parallel filaments that
// cross as their headings waver, a cord bundled from many.
vec2 laid(vec4 agent) {
    float lane = floor(fract(agent.w * 13.7) * 7.0) - 3.0 + 0.4 * (fract(agent.w * 91.3) - 0.5);
    // On the mural the lanes spread wider and wander across each other along the stroke (one
    // bend per 1/20 of the height, up to about two lanes): its strokes are grown of fibres that
    // twist like a rope, where seven ruled lanes read as a striped ribbon.
    float m = texture2D(u_mask, agent.xy).r * mural_fray;
    float drift = (noise(agent.xy * 20.0 + lane * 7.31) - 0.5) * 2.5 * m;
    vec2 across = vec2(-sin(agent.z) / u_aspect, cos(agent.z)) * (lane + drift) * braid * (1.0 + m);
    return (agent.xy + across) * u_resolution;
}

void main() {
    vec4 agent = texture2D(u_agents, a_index);
    vec4 before = texture2D(u_before, a_index);
    vec2 head = laid(agent);
    vec2 step = head - laid(before);
    // A jump (a respawn, a tip sprouting elsewhere: over 4 % of the height; a step at 10 fps is
    // under 1 %) or a step under a pixel: the segment is the pixel behind
    // the head along its heading, so every agent lays at least one pixel a frame.
    float span = max(abs(step.x), abs(step.y));  // pixels a line covers: one per major-axis pixel
    if (span > 0.04 * u_resolution.y || span < 1.0) {
        vec2 heading = vec2(cos(agent.z), sin(agent.z));
        step = heading / max(abs(heading.x), abs(heading.y));
        span = 1.0;
    }
    vec2 at = a_end > 0.5 ? head : head - step;
    vec4 f = texture2D(u_fields, agent.xy);
    // Hyphae lay down more where they digest waste (what they crossed is the diffusion's part).
    float amount = deposit * u_dt * u_coverage * (1.0 + digest * f.r);
    v_deposit = vec4(amount / span, 0.0, 0.0, 0.0);
    gl_Position = vec4(at / u_resolution * 2.0 - 1.0, 0.0, 1.0);
}
