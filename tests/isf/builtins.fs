/*{
  "ISFVSN": "2",
  "DESCRIPTION": "The built-in uniforms, as numbers, in a float picture",
  "INPUTS": []
}*/

// Declared again, as files written for some hosts do: the host's own declaration is the one kept.
uniform float TIME;
varying vec2 isf_FragNormCoord;

void main() {
    float x = isf_FragNormCoord.x;
    if (x < 0.25) {
        gl_FragColor = vec4(TIME, TIMEDELTA, float(FRAMEINDEX), float(PASSINDEX));
    } else if (x < 0.5) {
        gl_FragColor = DATE;
    } else {
        gl_FragColor = vec4(RENDERSIZE, isf_FragNormCoord);
    }
}
