/*{
  "DESCRIPTION": "An output: its region of the world's picture (or a test pattern) with colour, soft-edge blend, black lift and masks; placed by map.vert's mesh and corner pin. Built with PLAIN defined for outputs with no pattern, blend or mask: a CPU rasteriser runs every branch of a shader, so there a plain view costs a quarter of the whole one (5 against 19 ms at 1280x720 on llvmpipe).",
  "VERTEX": "map.vert"
}*/
uniform sampler2D u_picture;
uniform vec4 u_view_region;   // x0, y0, x1, y1 of the picture texture, 0..1, y up
uniform vec4 u_region;        // the same region of the canvas, y down (for the test patterns)
uniform int u_pattern;        // 0 the picture, 1 numbered grid, 2 colour bars, 3 blend check, 4 white, 5 black
uniform sampler2D u_grid;     // the numbered grid of the whole canvas, top row first
uniform float u_brightness;
uniform float u_contrast;
uniform vec3 u_gain;
uniform vec4 u_blend_width;   // left, right, top, bottom, 0..1 of the content
uniform vec4 u_blend_curve;
uniform vec4 u_blend_gamma;
uniform float u_black_lift;
uniform bool u_blending;      // any blend width or black lift
uniform bool u_masked;        // any mask
uniform sampler2D u_mask;     // what the masks let through, over the output, top row first
uniform vec2 u_viewport;      // the output's pixels
varying vec2 v_content;       // 0..1 over the region, y down

vec3 bars(vec2 canvas) {
    if (canvas.y > 0.8) {
        return vec3(floor(canvas.x * 11.0) / 10.0);  // a grey step wedge, black to white
    }
    float bar = floor(canvas.x * 7.0);  // white, yellow, cyan, green, magenta, red, blue at 75 %
    float red = bar < 2.0 || bar == 4.0 || bar == 5.0 ? 1.0 : 0.0;
    float green = bar < 4.0 ? 1.0 : 0.0;
    float blue = mod(bar, 2.0) < 0.5 ? 1.0 : 0.0;
    return 0.75 * vec3(red, green, blue);
}

vec3 content(vec2 uv) {
#ifndef PLAIN
    vec2 canvas = mix(u_region.xy, u_region.zw, uv);
    if (u_pattern == 1) return texture2D(u_grid, canvas).rgb;
    if (u_pattern == 2) return bars(canvas);
    if (u_pattern == 3) return vec3(0.5);
    if (u_pattern == 4) return vec3(1.0);
    if (u_pattern == 5) return vec3(0.0);
#endif
    return texture2D(u_picture, mix(u_view_region.xy, u_view_region.zw, vec2(uv.x, 1.0 - uv.y))).rgb;
}

// The signal multiplier across a ramp (t 0 at the output's edge, 1 at its inner end): its light
// (ramp^gamma) is an S-curve f with f(t) + f(1 - t) = 1, so facing ramps add up evenly.
float ramp(float t, float curve, float gamma) {
    t = clamp(t, 0.0, 1.0);
    float light = t < 0.5 ? 0.5 * pow(2.0 * t, curve) : 1.0 - 0.5 * pow(2.0 * (1.0 - t), curve);
    return pow(light, 1.0 / gamma);
}

void main() {
    vec2 uv = clamp(v_content, 0.0, 1.0);
    vec3 color = clamp((content(uv) - 0.5) * u_contrast + 0.5 + u_brightness, 0.0, 1.0) * u_gain;
    color = clamp(color, 0.0, 1.0);
#ifndef PLAIN
    if (u_blending) {
        vec4 distance = vec4(uv.x, 1.0 - uv.x, uv.y, 1.0 - uv.y);
        float factor = 1.0;
        bool outside = true;
        for (int edge = 0; edge < 4; edge++) {
            if (u_blend_width[edge] > 0.0) {
                factor *= ramp(distance[edge] / u_blend_width[edge], u_blend_curve[edge], u_blend_gamma[edge]);
                outside = outside && distance[edge] >= u_blend_width[edge];
            }
        }
        color *= factor;
        if (outside) {
            color = u_black_lift + (1.0 - u_black_lift) * color;  // the overlap's doubled black, matched
        }
    }
    if (u_masked) {
        vec2 on_output = vec2(gl_FragCoord.x / u_viewport.x, 1.0 - gl_FragCoord.y / u_viewport.y);
        color *= texture2D(u_mask, on_output).r;
    }
#endif
    gl_FragColor = vec4(color, 1.0);
}
