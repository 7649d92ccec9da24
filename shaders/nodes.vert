// One point sprite per node: a_node = (x, y, activity, seconds since it joined).
attribute vec4 a_node;
varying vec4 v_node;

void main() {
    v_node = a_node;
    gl_Position = vec4(a_node.xy * 2.0 - 1.0, 0.0, 1.0);
    gl_PointSize = max(2.0, node_radius * u_resolution.y * 2.0 * (0.7 + 0.6 * a_node.z));
}
