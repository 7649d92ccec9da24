/*{
  "ISFVSN": "2",
  "DESCRIPTION": "The built-in uniforms, as numbers, in a float picture",
  "INPUTS": []
}*/

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
