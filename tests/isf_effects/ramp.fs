/*{"ISFVSN": "2", "DESCRIPTION": "test: black at the left to white at the right, alpha the other way",
   "INPUTS": []}*/
void main() { gl_FragColor = vec4(vec3(isf_FragNormCoord.x), 1.0 - isf_FragNormCoord.x); }
