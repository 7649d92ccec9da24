/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A 2.0 file still spelling the 1.0 names (vv_) in both stages, as the reference hosts allow",
  "CATEGORIES": ["Test"],
  "INPUTS": []
}*/

varying vec2 doubled;

void main() {
    gl_FragColor = vec4(doubled, vv_FragNormCoord);
}
