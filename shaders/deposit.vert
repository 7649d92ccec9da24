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
    gl_Position = vec4(agent.xy * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = 1.0;
}
