/*{
  "ISFVSN": "2",
  "DESCRIPTION": "The waveform and the spectrum as they arrive, and their texture sizes",
  "INPUTS": [
    {"NAME": "wave", "TYPE": "audio", "MAX": 8},
    {"NAME": "spectrum", "TYPE": "audioFFT"}
  ]
}*/

void main() {
    gl_FragColor = vec4(IMG_NORM_PIXEL(wave, isf_FragNormCoord).r, IMG_NORM_PIXEL(spectrum, isf_FragNormCoord).r,
                        IMG_SIZE(wave).x + IMG_SIZE(wave).y / 10.0, IMG_SIZE(spectrum).x + IMG_SIZE(spectrum).y / 10.0);
}
