/*{"ISFVSN": "2", "DESCRIPTION": "test: 1 - the picture", "CATEGORIES": ["Test"], "CREDIT": "Myco tests",
   "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
void main() { gl_FragColor = vec4(1.0 - IMG_THIS_PIXEL(inputImage).rgb, 1.0); }
