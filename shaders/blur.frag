/*{
  "DESCRIPTION": "Glow: bright-pass and separable Gaussian blur at a reduced size.",
  "INPUTS": [
    {"NAME": "threshold", "TYPE": "float", "MIN": 0.0, "MAX": 4.0, "DEFAULT": 0.9, "LABEL": "Glow threshold", "SMOOTHING": 0.5}
  ]
}*/
uniform sampler2D u_image;
uniform vec2 u_direction;    // one texel along the blur axis
uniform float u_bright_pass; // 1 on the first pass
varying vec2 v_uv;

void main() {
    float weights[5];
    weights[0] = 0.227; weights[1] = 0.195; weights[2] = 0.122; weights[3] = 0.054; weights[4] = 0.016;
    vec3 sum = texture2D(u_image, v_uv).rgb * weights[0];
    for (int i = 1; i < 5; i++) {
        vec2 off = u_direction * float(i) * 1.5;
        sum += (texture2D(u_image, v_uv + off).rgb + texture2D(u_image, v_uv - off).rgb) * weights[i];
    }
    if (u_bright_pass > 0.5) {
        sum = max(sum - vec3(threshold), vec3(0.0));
    }
    gl_FragColor = vec4(sum, 1.0);
}
