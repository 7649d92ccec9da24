/*{
  "ISFVSN": "2",
  "DESCRIPTION": "The input image, unchanged: the least a filter does (benchmarks/bench_isf.py)",
  "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]
}*/

void main() {
    gl_FragColor = IMG_THIS_PIXEL(inputImage);
}
