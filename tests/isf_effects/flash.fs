/*{"ISFVSN": "2", "DESCRIPTION": "test: white in the frame hit fires", "INPUTS": [
   {"NAME": "inputImage", "TYPE": "image"}, {"NAME": "hit", "TYPE": "event"}]}*/
void main() { gl_FragColor = hit ? vec4(1.0) : IMG_THIS_PIXEL(inputImage); }
