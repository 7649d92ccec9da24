// One point per agent: read its position from the agent texture (vertex texture fetch).
attribute vec2 a_index;       // the agent's texel centre in the agent texture
uniform sampler2D u_agents;
uniform sampler2D u_fields;
uniform float u_coverage;    // simulation pixels per agent: keeps density independent of quality
varying vec4 v_deposit;

void main() {
    vec4 agent = texture2D(u_agents, a_index);
    vec4 f = texture2D(u_fields, agent.xy);
    // Hyphae lay down more where they digest waste (what they crossed is the diffusion's part).
    float amount = deposit * u_dt * u_coverage * (1.0 + digest * f.r);
    v_deposit = vec4(amount, 0.0, 0.0, 0.0);
    // Each hypha keeps to one of seven lanes beside its path (by its seed): hyphae sharing a
    // path lay parallel filaments that cross as their headings waver, a cord bundled from many.
    float lane = floor(fract(agent.w * 13.7) * 7.0) - 3.0 + 0.4 * (fract(agent.w * 91.3) - 0.5);
    vec2 across = vec2(-sin(agent.z) / u_aspect, cos(agent.z)) * lane * braid;
    gl_Position = vec4((agent.xy + across) * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = 1.0;
}
