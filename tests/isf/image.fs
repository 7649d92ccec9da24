/*{
  "ISFVSN": "2",
  "DESCRIPTION": "The image functions: mode 0 IMG_THIS_PIXEL, 1 IMG_PIXEL, 2 IMG_NORM_PIXEL, 3 IMG_SIZE, 4 mirrored by IMG_PIXEL, 5 IMG_THIS_NORM_PIXEL, 6 texture2DRect (hosts with rectangle textures)",
  "CATEGORIES": ["Test"],
  "INPUTS": [
    {"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "mode", "TYPE": "long", "MIN": 0, "MAX": 6, "DEFAULT": 0}
  ]
}*/

void main() {
    if (mode == 0) {
        gl_FragColor = IMG_THIS_PIXEL(inputImage);
    } else if (mode == 1) {
        gl_FragColor = IMG_PIXEL(inputImage, gl_FragCoord.xy);
    } else if (mode == 2) {
        gl_FragColor = IMG_NORM_PIXEL(inputImage, isf_FragNormCoord);
    } else if (mode == 3) {
        gl_FragColor = vec4(IMG_SIZE(inputImage) / 10.0, 0.0, 1.0);
    } else if (mode == 4) {
        gl_FragColor = IMG_PIXEL(inputImage, vec2(IMG_SIZE(inputImage).x - gl_FragCoord.x, gl_FragCoord.y));
    } else if (mode == 5) {
        gl_FragColor = IMG_THIS_NORM_PIXEL(inputImage);
    } else {
        gl_FragColor = texture2DRect(inputImage, gl_FragCoord.xy);
    }
}
