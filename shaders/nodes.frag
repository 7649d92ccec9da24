/*{
  "DESCRIPTION": "Node splats (additive): r pull on the hyphae weighted by activity, g presence, b bright core.",
  "VERTEX": "nodes.vert",
  "INPUTS": [
    {"NAME": "node_radius", "TYPE": "float", "MIN": 0.005, "MAX": 0.2, "DEFAULT": 0.05, "LABEL": "Node reach", "UNIT": "height", "SMOOTHING": 0.5}
  ]
}*/
varying vec4 v_node;

void main() {
    vec2 d = gl_PointCoord * 2.0 - 1.0;
    float r2 = dot(d, d);
    if (r2 > 1.0) discard;
    float glow = exp(-r2 * 4.0);
    float core = exp(-r2 * 60.0);
    gl_FragColor = vec4(glow * (0.25 + v_node.z), glow, core * (0.4 + v_node.z), 0.0);
}
