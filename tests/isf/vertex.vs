varying vec2 swapped;

void main() {
    isf_vertShaderInit();
    swapped = vec2(offset) + isf_FragNormCoord.yx;
}
