/*{
  "ISFVSN": "2",
  "DESCRIPTION": "What files written for the reference hosts read by name: mode 0 the picture's _inputImage_imgRect, 1 a second image input nobody feeds, 2 its _second_flip",
  "CATEGORIES": ["Test"],
  "INPUTS": [
    {"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "second", "TYPE": "image"},
    {"NAME": "mode", "TYPE": "long", "VALUES": [0, 1, 2], "LABELS": ["rect", "second", "flip"], "DEFAULT": 0}
  ]
}*/

void main() {
    if (mode == 0) {
        gl_FragColor = _inputImage_imgRect;
    } else if (mode == 1) {
        gl_FragColor = IMG_THIS_PIXEL(second);
    } else {
        gl_FragColor = vec4(_second_flip ? 1.0 : 0.5);
    }
}
