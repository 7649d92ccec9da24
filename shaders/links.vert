// One quad per link, widened here so its width is a live uniform: a_ends = (x0, y0, x1, y1),
// a_along = (along 0..1, across -1..1), a_link = (length, flow, thickness, activity),
// a_spikes = seconds since each end last spiked.
attribute vec4 a_ends;
attribute vec2 a_along;
attribute vec4 a_link;
attribute vec2 a_spikes;
varying vec2 v_along;
varying vec4 v_link;
varying vec2 v_spikes;
varying float v_phase;
varying float v_width;

void main() {
    v_link = a_link;
    v_spikes = a_spikes;
    // each link its own meander, from where it lies (stable while the network holds)
    v_phase = fract(sin(dot(a_ends, vec4(12.9898, 78.233, 37.719, 4.581))) * 43758.5453);
    vec2 delta = (a_ends.zw - a_ends.xy) * vec2(u_aspect, 1.0);
    vec2 normal = normalize(vec2(-delta.y, delta.x) + 1e-6);
    float width = link_width * (0.4 + 1.2 * a_link.z);
    // the quad spans the cord's widest swing (links.frag bends the cord inside it)
    float reach = 1.35 * meander + 2.0 * width;
    v_width = width;
    v_along = vec2(a_along.x, a_along.y * reach / width);
    vec2 pos = mix(a_ends.xy, a_ends.zw, a_along.x) + normal * vec2(1.0 / u_aspect, 1.0) * reach * a_along.y;
    gl_Position = vec4(pos * 2.0 - 1.0, 0.0, 1.0);
}
