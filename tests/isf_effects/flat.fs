/*{"ISFVSN": "2", "DESCRIPTION": "test: one colour", "INPUTS": [
   {"NAME": "tint", "TYPE": "color", "DEFAULT": [0.2, 0.6, 0.8, 1.0]}]}*/
void main() { gl_FragColor = tint; }
