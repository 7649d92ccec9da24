/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A GLSL syntax error on line 8",
  "INPUTS": []
}*/

void main() {
    gl_FragColor = vec4(1.0) +;
}
