/*{
  "ISFVSN": "2",
  "DESCRIPTION": "A quarter-size pass, a persistent float accumulator, and the pass that shows them",
  "INPUTS": [
    {"NAME": "amount", "TYPE": "float", "MIN": 0.0, "MAX": 10.0, "DEFAULT": 0.5},
    {"NAME": "divider", "TYPE": "long", "MIN": 1, "MAX": 8, "DEFAULT": 4}
  ],
  "PASSES": [
    {"TARGET": "small", "WIDTH": "$WIDTH/$divider", "HEIGHT": "floor($HEIGHT/$divider)"},
    {"TARGET": "acc", "PERSISTENT": true, "FLOAT": true},
    {}
  ]
}*/

void main() {
    if (PASSINDEX == 0) {
        gl_FragColor = vec4(RENDERSIZE / 100.0, float(PASSINDEX), 1.0);
    } else if (PASSINDEX == 1) {
        gl_FragColor = IMG_THIS_PIXEL(acc) + vec4(amount, 2.0 * amount, 0.0, 0.0);
    } else {
        float x = isf_FragNormCoord.x;
        if (x < 0.25) {
            gl_FragColor = IMG_NORM_PIXEL(small, vec2(0.5, 0.5));
        } else if (x < 0.5) {
            gl_FragColor = IMG_THIS_PIXEL(acc);
        } else if (x < 0.75) {
            gl_FragColor = vec4(IMG_SIZE(small), IMG_SIZE(acc));
        } else {
            gl_FragColor = vec4(float(PASSINDEX), 0.0, 0.0, 1.0);
        }
    }
}
