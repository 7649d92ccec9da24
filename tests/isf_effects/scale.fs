/*{"ISFVSN": "2", "DESCRIPTION": "test: the picture times Gain", "CATEGORIES": ["Test"],
   "INPUTS": [{"NAME": "inputImage", "TYPE": "image"},
              {"NAME": "Gain", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0}]}*/
void main() { gl_FragColor = vec4(IMG_THIS_PIXEL(inputImage).rgb * Gain, 1.0); }
