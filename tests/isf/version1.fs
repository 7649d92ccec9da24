/*{
  "DESCRIPTION": "An ISF 1.0 file: a persistent buffer, vv_FragNormCoord",
  "PERSISTENT_BUFFERS": ["trail"],
  "PASSES": [{"TARGET": "trail"}, {}]
}*/

void main() {
    if (PASSINDEX == 0) {
        gl_FragColor = IMG_THIS_PIXEL(trail) + vec4(0.25);
    } else {
        gl_FragColor = vec4(vv_FragNormCoord, IMG_THIS_PIXEL(trail).r, 1.0);
    }
}
