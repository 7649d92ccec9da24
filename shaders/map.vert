// One output's geometry: a grid over its content, placed by the mesh warp and the corner pin.
// a_position is the homogeneous point (x*w, y*w, w) on the output (0..1, y down) from the
// pin's homography; handing w to the rasteriser makes it interpolate v_content with a true
// perspective divide, so even one quad is an exact perspective warp, not two affine triangles.
attribute vec3 a_position;
attribute vec2 a_content;
varying vec2 v_content;

void main() {
    v_content = a_content;
    gl_Position = vec4(2.0 * a_position.x - a_position.z, a_position.z - 2.0 * a_position.y, 0.0, a_position.z);
}
