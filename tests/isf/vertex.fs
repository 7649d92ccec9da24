/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A varying of the companion vertex shader",
  "INPUTS": [{"NAME": "offset", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 1.0}]
}*/

varying vec2 swapped;

void main() {
    gl_FragColor = vec4(swapped, isf_FragNormCoord);
}
