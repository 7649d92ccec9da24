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

void main() {
    v_along = a_along;
    v_link = a_link;
    v_spikes = a_spikes;
    vec2 delta = (a_ends.zw - a_ends.xy) * vec2(u_aspect, 1.0);
    vec2 normal = normalize(vec2(-delta.y, delta.x) + 1e-6);
    float width = link_width * (0.4 + 1.2 * a_link.z);
    vec2 pos = mix(a_ends.xy, a_ends.zw, a_along.x) + normal * vec2(1.0 / u_aspect, 1.0) * width * a_along.y;
    gl_Position = vec4(pos * 2.0 - 1.0, 0.0, 1.0);
}
