/*{"ISFVSN": "2", "DESCRIPTION": "test: the spectrum's first channel as grey, left to right", "INPUTS": [
   {"NAME": "fft", "TYPE": "audioFFT"}]}*/
void main() { gl_FragColor = vec4(vec3(IMG_NORM_PIXEL(fft, vec2(isf_FragNormCoord.x, 0.25)).r), 1.0); }
