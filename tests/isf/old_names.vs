varying vec2 doubled;

void main() {
    vv_vertShaderInit();
    doubled = 2.0 * vv_FragNormCoord;
}
