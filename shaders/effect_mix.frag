// The effect chain's mixing pass (render/effects.py): one effect's output over the picture so far.
// A filter replaces the picture, crossfaded by its level; a generator is a layer blended by mode and
// opacity, or a mask (its luminance or alpha) over the picture, or over what the effect below it did.
uniform sampler2D u_base;    // the picture so far
uniform sampler2D u_effect;  // this effect's output
uniform sampler2D u_under;   // the picture before the effect below this one (mask "below")
uniform float u_mode;        // 0 filter; 1 normal, 2 add, 3 screen, 4 multiply, 5 overlay; 6 mask picture, 7 mask below; 8 copy
uniform float u_level;       // the crossfade: 0 as if the effect were not there, 1 fully in
uniform float u_opacity;
uniform float u_mask_alpha;  // 1: a mask is the generator's alpha, 0: its luminance
uniform float u_darken;      // the blackout, applied once more after the chain (a filter may lift black)
varying vec2 v_uv;

vec3 blended(vec3 b, vec3 l, float mode) {
    if (mode < 1.5) return l;
    if (mode < 2.5) return min(b + l, 1.0);
    if (mode < 3.5) return 1.0 - (1.0 - b) * (1.0 - l);
    if (mode < 4.5) return b * l;
    return mix(2.0 * b * l, 1.0 - 2.0 * (1.0 - b) * (1.0 - l), step(0.5, b));
}

void main() {
    vec4 base = texture2D(u_base, v_uv);
    vec4 fx = texture2D(u_effect, v_uv);
    vec4 result;
    if (u_mode < 0.5) {
        result = mix(base, fx, u_level);
    } else if (u_mode < 5.5) {
        result = vec4(mix(base.rgb, blended(base.rgb, fx.rgb, u_mode), u_opacity * u_level * fx.a), base.a);
    } else if (u_mode < 7.5) {
        float m = u_mask_alpha > 0.5 ? fx.a : dot(fx.rgb, vec3(0.2126, 0.7152, 0.0722));
        vec3 masked = u_mode < 6.5 ? base.rgb * m : mix(texture2D(u_under, v_uv).rgb, base.rgb, m);
        result = vec4(mix(base.rgb, masked, u_opacity * u_level), base.a);
    } else {
        result = base;
    }
    gl_FragColor = vec4(result.rgb * (1.0 - u_darken), 1.0);
}
