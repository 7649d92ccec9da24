/*{
  "DESCRIPTION": "A view: one region of the world's finished picture, resampled to an output or the preview."
}*/
uniform sampler2D u_picture;
uniform vec4 u_view_region; // x0, y0, x1, y1 of the picture, 0..1, y up
varying vec2 v_uv;

void main() {
    gl_FragColor = vec4(texture2D(u_picture, mix(u_view_region.xy, u_view_region.zw, v_uv)).rgb, 1.0);
}
